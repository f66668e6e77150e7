"""Models that run on this machine, in this process.

    embedded     the course-sized models shipped in the package (no key, GPU or internet)
    hub          real Phi checkpoints from the Hugging Face Hub with transformers (opt-in download)
    generation   the course's one generation loop: chat, streaming, sampling, stop strings
    onnx_models  ONNX Runtime GenAI builds (int4 on a CPU), built locally or downloaded
    modelfile    Ollama's Modelfile format, read and checked before `ollama create`

Nothing heavy is imported until a function needs it.
"""
