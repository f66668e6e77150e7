"""tiny-phi35-vision: an image encoder and a Phi-3 decoder joined by a projector, as Phi-3-vision is built.

Introduced in lessons/09_phi_vision.ipynb.

Phi-3-vision puts a CLIP ViT image encoder in front of the Phi-3-mini decoder:
the encoder turns the picture into a few hundred vectors, a small projector
maps them into the decoder's embedding space, and they take the place of
image placeholder tokens in the prompt. This module builds the same thing,
tiny, with classes transformers ships (`LlavaForConditionalGeneration` with a
`CLIPVisionConfig` and a `Phi3Config`), so `AutoProcessor` and
`AutoModelForImageTextToText` load it with no remote code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from phi_course.vision import NAME, STANDS_IN_FOR  # noqa: F401  (re-exported)

__all__ = ["CHAT_TEMPLATE", "IMAGE", "SPEC", "VisionSpec", "base_tokenizer", "build_model",
           "build_processor", "spec_dict"]

END_OF_TEXT, SYSTEM, USER, ASSISTANT, END = (
    "<|endoftext|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>")
IMAGE = "<|image|>"  # one per picture in the prompt; the processor repeats it once per image vector

# Phi-3's chat format, with each picture written as IMAGE on its own line where it appears.
# Content may be a string or a list of parts: {"type": "text"}, {"type": "image"} (transformers'
# name) or {"type": "image_url"} (OpenAI's).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% set role = 'system' if message['role'] == 'developer' else message['role'] %}"
    "{% if role in ['system', 'user', 'assistant'] %}"
    "{% if message['content'] is string %}{% set text = message['content'] %}"
    "{% else %}{% set text = namespace(value='') %}"
    "{% for part in message['content'] %}"
    "{% if part['type'] in ['image', 'image_url'] %}{% set text.value = text.value + '" + IMAGE + "\n' %}"
    "{% elif part['type'] == 'text' %}{% set text.value = text.value + part['text'] %}{% endif %}"
    "{% endfor %}{% set text = text.value %}{% endif %}"
    "{% if role != 'system' or text %}{{ '<|' + role + '|>\n' + text + '<|end|>\n' }}{% endif %}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)


@dataclass(frozen=True)
class VisionSpec:
    """The sizes of the model. Small on purpose: it trains in minutes on a laptop CPU."""

    image_size: int = 64  # pixels per side the encoder sees (pictures are resized to this)
    patch_size: int = 16  # so a picture is 4 x 4 = 16 patches, plus one summary (CLS) vector
    vision_hidden: int = 128
    vision_layers: int = 3
    vision_heads: int = 4
    text_hidden: int = 128
    text_layers: int = 2
    text_heads: int = 4
    text_intermediate: int = 384
    context: int = 512

    @property
    def image_tokens(self) -> int:
        """Vectors per picture in the prompt: every patch, plus the encoder's CLS summary."""
        return (self.image_size // self.patch_size) ** 2 + 1


SPEC = VisionSpec()


def base_tokenizer():
    """The course's text tokenizer, the one tiny-phi35-mini reads with (same words, same ids), plus the IMAGE token.

    Learned from the course's dataset as the text models' is (train.build_tokenizer), not read from
    tiny-phi35-mini's folder: `make models` trains the two side by side, and a folder read would give
    whichever tokenizer was there when this job started.
    """
    from phi_course.training.train import build_tokenizer

    tokenizer = build_tokenizer()
    tokenizer.add_special_tokens({"extra_special_tokens": [IMAGE]}, replace_extra_special_tokens=False)
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_processor(tokenizer, spec: VisionSpec = SPEC):
    """Image processor (resize to image_size, scale to [-1, 1]) + tokenizer + chat template."""
    from transformers import CLIPImageProcessorPil, LlavaProcessor

    # Resizing the whole picture (no centre crop) keeps the edges of a chart, where labels sit.
    images = CLIPImageProcessorPil(size={"height": spec.image_size, "width": spec.image_size},
                                   do_center_crop=False, image_mean=[0.5] * 3, image_std=[0.5] * 3)
    return LlavaProcessor(image_processor=images, tokenizer=tokenizer, patch_size=spec.patch_size,
                          vision_feature_select_strategy="full", image_token=IMAGE,
                          num_additional_image_tokens=1, chat_template=CHAT_TEMPLATE)


def build_model(tokenizer, spec: VisionSpec = SPEC):
    """A freshly initialised LlavaForConditionalGeneration of this spec (seed torch first)."""
    from transformers import (
        CLIPVisionConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        Phi3Config,
    )

    vision = CLIPVisionConfig(
        hidden_size=spec.vision_hidden, intermediate_size=2 * spec.vision_hidden,
        num_hidden_layers=spec.vision_layers, num_attention_heads=spec.vision_heads,
        image_size=spec.image_size, patch_size=spec.patch_size, projection_dim=spec.vision_hidden)
    text = Phi3Config(
        vocab_size=len(tokenizer), hidden_size=spec.text_hidden, intermediate_size=spec.text_intermediate,
        num_hidden_layers=spec.text_layers, num_attention_heads=spec.text_heads,
        num_key_value_heads=spec.text_heads, max_position_embeddings=spec.context,
        original_max_position_embeddings=spec.context, rope_scaling=None,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True)
    config = LlavaConfig(
        vision_config=vision, text_config=text, image_token_index=tokenizer.convert_tokens_to_ids(IMAGE),
        image_seq_length=spec.image_tokens,
        # "full" keeps the encoder's CLS vector, which step 1 of training teaches to summarise the
        # picture; the last encoder layer is used because there are only three.
        vision_feature_select_strategy="full", vision_feature_layer=-1, tie_word_embeddings=True)
    return LlavaForConditionalGeneration(config)


def spec_dict(spec: VisionSpec = SPEC) -> dict:
    return asdict(spec)
