"""Choose the Keras backend before Keras is imported, without importing it.

skmdn trains with TensorFlow (compiled ``tf.function`` loops) and hands users a
TensorFlow-Probability distribution, so it needs Keras' TensorFlow backend. This
module decides that backend as late as possible: ``import skmdn`` stays cheap and
TensorFlow loads only when a model is built or loaded.
"""

import contextlib
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


@contextlib.contextmanager
def quiet_native_startup():
    """Silence TensorFlow's C++ start-up lines unless the user asked for them.

    Importing TensorFlow and initialising its devices prints oneDNN, CUDA and
    absl lines from C++ straight to file descriptor 2, some before
    ``TF_CPP_MIN_LOG_LEVEL`` is read. Inside this context descriptor 2 points
    to /dev/null; Python exceptions still propagate. A user who set
    ``TF_CPP_MIN_LOG_LEVEL`` keeps TensorFlow's own behaviour.
    """
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        yield
        return
    # Set for TensorFlow's own reading during import, and removed after, so
    # that child processes do not inherit it as if the user had set it.
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        del os.environ["TF_CPP_MIN_LOG_LEVEL"]


def load_tensorflow():
    """Import TensorFlow on Keras' TensorFlow backend, without its C++
    start-up lines, and discover its devices; returns the module.

    Device discovery (CUDA probing) logs on first use: it is done here,
    inside ``quiet_native_startup``.
    """
    ensure_tensorflow_backend()
    with quiet_native_startup():
        import tensorflow as tf

        tf.config.list_logical_devices()
    return tf
