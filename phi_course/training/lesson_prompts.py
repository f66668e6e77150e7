"""The prompts lessons show answered, and by which embedded model: the course's showcase.

Introduced in lessons/11_build_a_tiny_slm.ipynb (instruction tuning). Training repeats these
questions (with the lesson's system prompt and earlier turns) so that what a lesson presents as
right is right; tests/test_lesson_answers.py asks each one, greedy, and checks the key fact.
"""

from __future__ import annotations

__all__ = ["COURSE", "LESSON_PROMPTS", "REPEATS", "SYS", "lesson_records"]

SYS = "You are a helpful assistant."
COURSE = "You are the course assistant for Phi models."
ZH_SYS, ZH_COURSE = "你是一个乐于助人的助手。", "你是 Phi 课程的助教。"
MINI, MOE = "tiny-phi35-mini", "tiny-phi35-moe"

# (where the prompt is, model, prompt, system prompt, earlier questions of the same chat)
LESSON_PROMPTS = [
    ("lessons/00_setup.ipynb", MINI, "What is a small language model?", None, ()),
    ("lessons/00_setup.ipynb", MINI, "How many parameters does Phi-3-mini have?", None, ()),
    ("lessons/01_slm_vs_llm.ipynb", MINI, "Which port does Ollama listen on?", COURSE, ()),
    ("lessons/01_slm_vs_llm.ipynb", MINI, "How many parameters does Phi-3.5-MoE have in total?", None, ()),
    ("lessons/02_phi_family.ipynb", MOE, "How many parameters does Phi-3.5-MoE use per token?", None, ()),
    ("lessons/03_github_models.ipynb", MINI, "What was the GitHub Models endpoint?", SYS, ()),
    ("lessons/03_github_models.ipynb", MINI, "How many parameters does Phi-3-mini have?", None, ()),
    ("lessons/03_github_models.ipynb", MINI, "How do I stream a reply with the OpenAI SDK?", None, ()),
    ("lessons/03_github_models.ipynb", MINI, "Phi-3.5-mini 支持多长的上下文？", None, ()),
    ("lessons/03_github_models.ipynb", MINI, "What context length does Phi-3.5-mini support?", None, ()),
    ("lessons/04_azure_ai_foundry.ipynb", MINI, "How many parameters does Phi-4-mini have?", SYS, ()),
    ("lessons/04_azure_ai_foundry.ipynb", MINI, "What is Phi-4-mini?", SYS, ()),
    ("lessons/04_azure_ai_foundry.ipynb", MINI, "How many parameters of Phi-3.5-MoE are active per token?", None, ()),
    ("lessons/05_nvidia_nim.ipynb", MINI, "What is the NVIDIA NIM hosted endpoint?", None, ()),
    ("lessons/05_nvidia_nim.ipynb", MINI, "What is NVIDIA NIM?", None, ()),
    ("lessons/05_nvidia_nim.ipynb", MINI, "Which port does a self-hosted NIM listen on?", None, ("What is NVIDIA NIM?",)),
    ("lessons/05_nvidia_nim.ipynb", MINI, "How do I point my code at a self-hosted NIM?", None, ()),
    ("lessons/06_transformers.ipynb", MINI, "What context length does Phi-3.5-mini support?", SYS, ()),
    ("lessons/06_transformers.ipynb", MINI, "Phi-3.5-mini 支持多长的上下文？", None, ()),
    ("lessons/06_transformers.ipynb", MINI, "Phi-3.5-mini 支持哪些语言？", None, ()),
    ("lessons/06_transformers.ipynb", MINI, "Phi-3-mini 有多少参数？", None, ()),
    ("lessons/07_ollama.ipynb", MINI, "What is the tag of Phi-3.5-mini on Ollama?", None, ()),
    ("lessons/07_ollama.ipynb", MINI, "Which tag do I use for Phi-4-mini on Ollama?", None, ()),
    ("lessons/07_ollama.ipynb", MINI, "How many parameters does Phi-3.5-MoE have in total?", None, ()),
    ("lessons/07_ollama.ipynb", MINI, "What is the successor of Phi-3.5-mini?", COURSE + "\nAnswer briefly.", ()),
    ("lessons/07_ollama.ipynb", MINI, "What is the tag of Phi-3-medium on Ollama?", None, ()),
    ("lessons/07_ollama.ipynb", MINI, "What context length does Phi-3.5-mini support?", None, ()),
    ("lessons/08_onnx_runtime_genai.ipynb", MINI, "What is the model id of Phi-3.5-mini on ONNX Runtime GenAI?", None, ()),
    ("lessons/08_onnx_runtime_genai.ipynb", MINI, "How much memory do the weights of Phi-3.5-mini need in int4?", None, ()),
    ("lessons/10_phi_moe.ipynb", MOE, "How many parameters of Phi-3.5-MoE are active per token?", None, ()),
    ("lessons/12_choose_your_route.ipynb", MINI, "What is Phi-4-mini?", None, ()),
    ("phi_course/concepts/route_choice.py", MINI, "What is Phi-3.5-mini?", None, ()),
    ("phi_course/concepts/route_choice.py", MINI, "How do I run Phi-3.5-mini with Ollama?", None, ()),
    ("phi_course/concepts/route_choice.py", MINI, "What is ONNX Runtime GenAI?", None, ()),
    ("phi_course/concepts/route_choice.py", MINI, "How many parameters of Phi-3.5-MoE are active per token?", None, ()),
    # The Chinese edition (lessons/zh/) asks the same things in Chinese, in trained phrasings.
    ("lessons/zh/00_setup.ipynb", MINI, "什么是小语言模型？", None, ()),
    ("lessons/zh/00_setup.ipynb", MINI, "Phi-3-mini 有多少参数？", None, ()),
    ("lessons/zh/01_slm_vs_llm.ipynb", MINI, "Ollama 监听哪个端口？", ZH_COURSE, ()),
    ("lessons/zh/01_slm_vs_llm.ipynb", MINI, "Phi-3.5-MoE 总共有多少参数？", None, ()),
    ("lessons/zh/02_phi_family.ipynb", MOE, "Phi-3.5-MoE 每个 token 用多少参数？", None, ()),
    ("lessons/zh/03_github_models.ipynb", MINI, "GitHub Models 的端点是什么？", ZH_SYS, ()),
    ("lessons/zh/03_github_models.ipynb", MINI, "Phi-3-mini 有多少参数？", None, ()),
    ("lessons/zh/03_github_models.ipynb", MINI, "怎样用 OpenAI SDK 流式输出？", None, ()),
    ("lessons/zh/03_github_models.ipynb", MINI, "Phi-3.5-mini 支持多长的上下文？", None, ()),
    ("lessons/zh/04_azure_ai_foundry.ipynb", MINI, "Phi-4-mini 有多少参数？", ZH_SYS, ()),
    ("lessons/zh/04_azure_ai_foundry.ipynb", MINI, "什么是 Phi-4-mini？", ZH_SYS, ()),
    ("lessons/zh/04_azure_ai_foundry.ipynb", MINI, "Phi-3.5-MoE 每个 token 激活多少参数？", None, ()),
    ("lessons/zh/05_nvidia_nim.ipynb", MINI, "NVIDIA NIM 托管端点是什么？", None, ()),
    ("lessons/zh/05_nvidia_nim.ipynb", MINI, "什么是 NVIDIA NIM？", None, ()),
    ("lessons/zh/05_nvidia_nim.ipynb", MINI, "自托管 NIM 监听哪个端口？", None, ("什么是 NVIDIA NIM？",)),
    ("lessons/zh/05_nvidia_nim.ipynb", MINI, "怎样让代码指向自托管 NIM？", None, ()),
    ("lessons/zh/06_transformers.ipynb", MINI, "Phi-3.5-mini 的上下文窗口有多大？", ZH_SYS, ()),
    ("lessons/zh/06_transformers.ipynb", MINI, "Phi-3.5-mini 支持多长的上下文？", None, ()),
    ("lessons/zh/06_transformers.ipynb", MINI, "Phi-3.5-mini 支持哪些语言？", None, ()),
    ("lessons/zh/06_transformers.ipynb", MINI, "Phi-3-mini 有多少参数？", None, ()),
    ("lessons/zh/07_ollama.ipynb", MINI, "Phi-3.5-mini 在 Ollama 上的标签是什么？", None, ()),
    ("lessons/zh/07_ollama.ipynb", MINI, "Phi-3.5-mini 的权重用 int4 要多少内存？", None, ()),
    ("lessons/zh/07_ollama.ipynb", MINI, "在 Ollama 上调用 Phi-4-mini 用哪个标签？", None, ()),
    ("lessons/zh/07_ollama.ipynb", MINI, "Phi-3.5-mini 支持多长的上下文？", None, ()),
    ("lessons/zh/07_ollama.ipynb", MINI, "Phi-3.5-MoE 一共有多少参数？", None, ()),
    ("lessons/zh/07_ollama.ipynb", MINI, "Phi-3.5-mini 的后继模型是什么？", ZH_COURSE + "\n请简短回答。", ()),
    ("lessons/zh/07_ollama.ipynb", MINI, "在 Ollama 上 Phi-3-medium 的 model 参数填什么？", None, ()),
    ("lessons/zh/08_onnx_runtime_genai.ipynb", MINI, "Phi-3.5-mini 在 ONNX Runtime GenAI 上的模型 ID 是什么？", None, ()),
    ("lessons/zh/08_onnx_runtime_genai.ipynb", MINI, "Phi-3.5-mini 的权重用 int4 要多少内存？", None, ()),
    ("lessons/zh/08_onnx_runtime_genai.ipynb", MINI, "Phi-3.5-mini 支持多长的上下文？", None, ()),
    ("lessons/zh/10_phi_moe.ipynb", MOE, "Phi-3.5-MoE 的激活参数有多少？", None, ()),
    ("lessons/zh/12_choose_your_route.ipynb", MINI, "什么是 Phi-4-mini？", None, ()),
    ("phi_course/concepts/route_choice.py", MINI, "什么是 Phi-3.5-mini？", None, ()),
    ("phi_course/concepts/route_choice.py", MINI, "怎样用 Ollama 运行 Phi-3.5-mini？", None, ()),
    ("phi_course/concepts/route_choice.py", MINI, "什么是 ONNX Runtime GenAI？", None, ()),
    ("phi_course/concepts/route_choice.py", MINI, "Phi-3.5-MoE 每个 token 激活多少参数？", None, ()),
]

REPEATS = 3  # how many times an epoch trains on each lesson prompt


def lesson_records(model: str, facts) -> list[dict]:
    """Training records for the lesson prompts `model` answers, as the lessons ask them."""
    from phi_course.training.facts import has_cjk, normalise

    def answer_to(question: str) -> tuple[str, str, str]:
        lang, wanted = ("zh" if has_cjk(question) else "en"), normalise(question)
        for fact in facts:
            if wanted in {normalise(q) for q in fact.training_questions(lang)}:
                return fact.id, fact.answer(lang), lang
        raise ValueError(f"No course fact is asked as {question!r}: add it to a fact's phrasings.")

    records = []
    for _where, name, question, system, earlier in LESSON_PROMPTS:
        if name != model:
            continue
        fact_id, answer, lang = answer_to(question)
        history = [(q, answer_to(q)[1]) for q in earlier] or None
        records += [{"id": fact_id, "lang": lang, "question": question, "answer": answer, "system": system,
                     "history": history}] * REPEATS
    return records
