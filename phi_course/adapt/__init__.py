"""Make a small model do your job (lessons/13_make_it_yours.ipynb).

    structured  answers that follow a JSON schema: ask, validate, retry, fall back
    tools       two course tools for the OpenAI tools API, and running the calls a model makes
    retrieval   a keyword index (BM25) over the course's texts and your own notes
    passage_check  does retrieval help a model? held-out questions asked without and with a passage
    lora        teach a model new facts with a LoRA adapter (peft), merge and save
    evaluate    a small exact-match harness, two models side by side
"""
