"""Hand-written plain paragraphs for pre-training, in English and Chinese.

Introduced in lessons/11_build_a_tiny_slm.ipynb (step 3: pre-train).

Written for this course in our own words. The dataset adds more paragraphs
made by stringing fact answers together by topic.
"""

from __future__ import annotations

from urllib.parse import urlparse

from phi_course import route_table

__all__ = ["PARAGRAPHS"]

_GITHUB_GONE = route_table.route("github").status.since
_OLLAMA_PORT = urlparse(route_table.route("ollama").endpoint).port
_PHI35_TAG = route_table.model_id("ollama", "phi-3.5-mini").id

PARAGRAPHS: dict[str, list[str]] = {
    "en": [
        "A small language model is a language model with few enough parameters to run on a laptop or a phone. "
        "It trades some breadth of knowledge for speed, low cost and privacy.",
        "Large and small language models rest on the same ideas: a transformer that reads tokens and predicts "
        "the next one. They differ in size, in the compute they need, in how broad their knowledge is, in how "
        "exposed they are to bias from raw web data, and in how fast they answer.",
        "Making a small model takes four steps. First collect text. Then clean it and remove duplicates. Then "
        "pre-train the model to predict the next token. Finally fine-tune it on questions and answers so that "
        "it follows instructions.",
        "Distillation lets a small student model learn from a large teacher. Quantization stores each weight "
        "in fewer bits. Pruning removes weights that do little. All three make a model cheaper to run.",
        "Memory for the weights is the number of parameters times the bytes per weight: four bytes in fp32, "
        "two in fp16 or bf16, one in int8 and half a byte in int4. Generation also needs a KV cache that grows "
        "with every token of context.",
        "Microsoft's Phi family shows how far careful data can take a small model. Phi-3-mini has 3.8 billion "
        "parameters, Phi-3-small 7 billion and Phi-3-medium 14 billion. Phi-3.5-mini keeps the size of "
        "Phi-3-mini and adds many languages and a long context.",
        "Phi-3.5-MoE is a mixture of experts. Sixteen experts sit in every layer and a router sends each token "
        "to two of them, so only 6.6 billion of about 42 billion parameters work on any one token.",
        "In a decoder-only model every token attends only to the tokens before it. GPT models, Mistral and Phi "
        "are all decoder-only. With a sliding window, a token looks back only a fixed number of tokens, which "
        "keeps long inputs cheap.",
        "You can reach Phi in the cloud through Microsoft Foundry or NVIDIA NIM, both of which speak an "
        "OpenAI-compatible API. You can also run it on your own machine with Hugging Face Transformers, Ollama "
        "or ONNX Runtime GenAI.",
        f"GitHub Models was a free way to call Phi with a GitHub token, until it was retired on {_GITHUB_GONE}. "
        "A rate-limited service answers a request over the limit with status 429 and a Retry-After header "
        "saying how long to wait.",
        f"Ollama runs a local server on port {_OLLAMA_PORT}. The command ollama run {_PHI35_TAG} downloads the model "
        "and opens a chat. A Modelfile builds a custom model from a base model, a system prompt and parameters.",
        "ONNX Runtime GenAI runs quantized ONNX models on a CPU. Its model builder turns a Hugging Face folder "
        "into an int4 ONNX model, and a short loop of append_tokens and generate_next_token produces the text.",
        "The models in this course are tiny. They have the Phi architecture but were trained in minutes on the "
        "course's own questions, so they answer those well and make things up about anything else.",
    ],
    "zh": [
        "小语言模型是参数较少的语言模型，可以在笔记本电脑或手机上运行。它牺牲了一些知识广度，换来速度、低成本和隐私。",
        "大语言模型和小语言模型基于同样的思想：用 Transformer 读入 token 并预测下一个。它们在规模、算力需求、"
        "知识广度、受网络原始数据偏见影响的程度以及回答速度上各不相同。",
        "做一个小模型分四步：先收集文本，再清洗并去掉重复，然后预训练模型预测下一个 token，最后用问答数据微调，让它遵循指令。",
        "蒸馏让小的学生模型向大的教师模型学习；量化用更少的比特存每个权重；剪枝删掉作用不大的权重。三者都让模型运行得更便宜。",
        "权重所需内存等于参数个数乘以每个权重的字节数：fp32 是 4 字节，fp16 或 bf16 是 2 字节，int8 是 1 字节，"
        "int4 是半个字节。生成时还需要 KV 缓存，它随上下文中的每个 token 增长。",
        "微软的 Phi 系列说明了精心挑选的数据能让小模型走多远。Phi-3-mini 有 38 亿参数，Phi-3-small 有 70 亿，"
        "Phi-3-medium 有 140 亿。Phi-3.5-mini 保持 Phi-3-mini 的大小，增加了多语言和长上下文能力。",
        "Phi-3.5-MoE 是混合专家模型。每层有 16 个专家，路由器把每个 token 送给其中两个，所以在约 420 亿参数中，"
        "每个 token 只用到 66 亿。",
        "仅解码器模型里，每个 token 只关注它之前的 token。GPT、Mistral 和 Phi 都是仅解码器模型。"
        "用滑动窗口时，每个 token 只回看固定数量的 token，长输入也不会太贵。",
        "在云端可以通过 Microsoft Foundry 或 NVIDIA NIM 使用 Phi，两者都提供兼容 OpenAI 的 API。"
        "也可以用 Hugging Face Transformers、Ollama 或 ONNX Runtime GenAI 在自己的电脑上运行。",
        f"GitHub Models 曾经可以用 GitHub 令牌免费调用 Phi，已于 {_GITHUB_GONE} 停用。"
        "有速率限制的服务会对超限的请求返回 429 状态码，Retry-After 头会告诉你要等多久。",
        f"Ollama 在 {_OLLAMA_PORT} 端口运行本地服务器。命令 ollama run {_PHI35_TAG} 会下载模型并打开对话。"
        "Modelfile 可以基于基础模型、系统提示和参数构建自定义模型。",
        "ONNX Runtime GenAI 在 CPU 上运行量化的 ONNX 模型。它的模型构建器把 Hugging Face 目录转成 int4 ONNX 模型，"
        "再用 append_tokens 和 generate_next_token 的简短循环生成文本。",
        "本课程里的模型非常小。它们采用 Phi 架构，但只用课程自己的问题训练了几分钟，所以能答好这些问题，"
        "对其他问题则会胡编乱造。",
    ],
}
