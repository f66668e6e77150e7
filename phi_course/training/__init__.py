"""Build the course's embedded models: dataset, tokenizer, training, evaluation.

Introduced in lessons/11_build_a_tiny_slm.ipynb.

    python -m phi_course.training dataset   # write data/qa.jsonl, data/texts.jsonl
    python -m phi_course.training train     # train into phi_course/models/ (make models)
    python -m phi_course.training eval      # score them (make eval-models)

Submodules load torch and transformers only when used, so importing this
package is cheap.
"""
