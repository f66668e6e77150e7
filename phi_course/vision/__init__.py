"""tiny-phi35-vision: the course's own image-text model, its pictures, training and scores.

Introduced in lessons/09_phi_vision.ipynb.

    python -m phi_course.vision train   # about ten minutes on one CPU core (make models)
    python -m phi_course.vision eval    # the score table (make eval-models)

Submodules: draw (pictures from a seed), tasks (questions and answers),
images (data URLs and size limits), architecture (the model), pretrain and
instruct (the two training steps), train, evaluate, runtime (load and ask).
Importing this package is cheap: torch and transformers load only when used.
"""

__all__ = ["NAME", "STANDS_IN_FOR"]

NAME = "tiny-phi35-vision"
STANDS_IN_FOR = "phi-3.5-vision"
