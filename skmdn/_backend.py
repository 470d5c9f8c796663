"""Choose the Keras backend before Keras is imported, without importing it.

skmdn trains with TensorFlow (compiled ``tf.function`` loops) and hands users a
TensorFlow-Probability distribution, so it needs Keras' TensorFlow backend. This
module decides that backend as late as possible: ``import skmdn`` stays cheap and
TensorFlow loads only when a model is built or loaded.
"""

import json
import os
import sys

REQUIRED_BACKEND = "tensorflow"


def _configured_backend():
    """Return the backend a user chose explicitly, or None if they chose none.

    Keras reads the ``KERAS_BACKEND`` environment variable first and then the
    ``backend`` entry of ``$KERAS_HOME/keras.json`` (default ``~/.keras``).
    """
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    try:
        with open(os.path.join(keras_home, "keras.json")) as config_file:
            return json.load(config_file).get("backend")
    except (OSError, ValueError, AttributeError):
        return None


def ensure_tensorflow_backend():
    """Make sure Keras runs on TensorFlow; call before the first ``import keras``.

    Raises
    ------
    RuntimeError
        If Keras is already imported with another backend, or the user
        configured another backend explicitly.
    """
    # TensorFlow's C++ INFO and WARNING lines flood the terminal on import;
    # keep errors. A user who set the variable keeps their choice.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "keras" in sys.modules:
        backend = sys.modules["keras"].backend.backend()
        source = "Keras was already imported with"
    else:
        backend = _configured_backend()
        source = "Keras is configured (KERAS_BACKEND or keras.json) to use"
        if backend is None:
            os.environ["KERAS_BACKEND"] = REQUIRED_BACKEND
            return
    if backend != REQUIRED_BACKEND:
        raise RuntimeError(
            f"skmdn needs Keras' TensorFlow backend, but {source} the "
            f"{backend!r} backend. Set the environment variable "
            f"KERAS_BACKEND=tensorflow before Keras is first imported (for "
            f"example before `import keras` or at the top of your script)."
        )
