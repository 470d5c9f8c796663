"""Speed and memory: skmdn against the Keras-recipe MDN and MLPRegressor.

Prints a table. Each model runs in its own subprocess, so import times and
peak memory (the child's maximum resident set size) are its own.

Main case, the keras-io recipe's settings: the noisy two-turn spiral, 10,000
training rows (1 feature, 1 output), two hidden layers of 128 relu units,
K = 20 components, batch 128, Adam with learning rate 1e-3.

- skmdn: ``MDNRegressor``.
- recipe: a plain Keras ``Sequential`` whose head concatenates means, ELU+1+eps
  sigmas and mixing logits, trained by ``model.fit`` on a loss built from
  tensorflow-probability's ``Mixture`` of one ``MultivariateNormalDiag`` per
  component, and sampled row by row with numpy: the widely copied approach.
- mlp: scikit-learn's ``MLPRegressor`` with the same body, batch and epochs
  (as a density: a Gaussian around its prediction with the training
  residuals' standard deviation).

Scaled-up cases: 1,000,000 rows x 10 features (one epoch each), and K = 50
components with a 5-dimensional y (10,000 rows).

Several networks and full covariance: skmdn's defaults with
``n_networks=1`` and ``5`` on the spiral with 2,000 rows (the quality
benchmark's size), and with ``covariance_type="diag"`` and ``"full"`` on
2,000 rows of ``benchmarks/covariance.py``'s two correlated outputs; whole
fits with early stopping (second fits, so without tracing), and the
predicted mode for 100,000 rows.

Run: ``python benchmarks/speed.py [--epochs 40] [--skip-large]
[--skip-networks]``.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np

HIDDEN = (128, 128)
N_COMPONENTS = 20
BATCH = 128
LEARNING_RATE = 1e-3
PREDICT_ROWS = 100_000
DRAWS = 1_000_000


# -- data ---------------------------------------------------------------------


def spiral_data():
    from skmdn.datasets import make_spiral

    X, y = make_spiral(10_000, random_state=0)
    X_test, y_test = make_spiral(2_000, random_state=1)
    return X.astype(np.float32), y.astype(np.float32), X_test, y_test


def wide_data(n_rows, n_features, n_outputs, seed=0):
    """x ~ N(0, I); y has two branches (sign chosen at random) around a smooth
    function of x, so the conditional density is bimodal."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_features), dtype=np.float32)
    branch = rng.choice([-1.0, 1.0], size=(n_rows, 1))
    centre = np.sin(X[:, :1]) + 0.5 * X[:, 1:2] ** 2
    y = centre + branch * (1.0 + 0.3 * np.arange(n_outputs)) + 0.2 * rng.standard_normal((n_rows, n_outputs))
    y = y.astype(np.float32)
    return X, (y[:, 0] if n_outputs == 1 else y)


# -- the three contestants -------------------------------------------------------


class Skmdn:
    name = "skmdn"

    def __init__(self, n_components, epochs):
        import skmdn  # noqa: F401  (its own import time is measured by the caller)
        from skmdn import MDNRegressor

        self.model = MDNRegressor(
            n_components=n_components, hidden_layer_sizes=HIDDEN, activation="relu",
            batch_size=BATCH, learning_rate_init=LEARNING_RATE, max_iter=epochs,
            tol=0.0, n_iter_no_change=10**9, alpha=0.0, random_state=0,
        )

    def fit(self, X, y):
        self.model.fit(X, y)

    def fit_one_epoch(self, X, y):
        self.model.set_params(warm_start=True, max_iter=1)
        self.model.fit(X, y)

    def log_likelihood(self, X, y):
        return self.model.score(X, y)

    def predict(self, X):
        return self.model.predict(X)

    def sample(self, X, n_draws):
        return self.model.sample(X, n_draws, random_state=0)


class Recipe:
    name = "recipe"

    def __init__(self, n_components, epochs):
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        import keras
        import tensorflow as tf
        import tensorflow_probability as tfp

        self.keras, self.tf, self.tfd = keras, tf, tfp.distributions
        self.n_components, self.epochs, self.model = n_components, epochs, None

    def _build(self, n_features, n_outputs):
        keras, tf, tfd = self.keras, self.tf, self.tfd
        K, d = self.n_components, n_outputs
        keras.utils.set_random_seed(0)
        inputs = keras.Input((n_features,))
        hidden = inputs
        for units in HIDDEN:
            hidden = keras.layers.Dense(units, activation="relu")(hidden)
        means = keras.layers.Dense(K * d)(hidden)
        sigmas = keras.layers.Dense(
            K * d, activation=lambda x: keras.activations.elu(x) + 1 + keras.config.epsilon()
        )(hidden)
        logits = keras.layers.Dense(K)(hidden)
        self.model = keras.Model(inputs, keras.layers.Concatenate()([means, sigmas, logits]))

        def split(parameters):
            return parameters[:, : K * d], parameters[:, K * d : 2 * K * d], parameters[:, 2 * K * d :]

        def mixture(parameters):
            mu, sigma, logit = split(parameters)
            return tfd.Mixture(
                cat=tfd.Categorical(logits=logit),
                components=[
                    tfd.MultivariateNormalDiag(loc=mu[:, i * d : (i + 1) * d], scale_diag=sigma[:, i * d : (i + 1) * d])
                    for i in range(K)
                ],
            )

        def loss(y_true, parameters):
            return -mixture(parameters).log_prob(tf.reshape(y_true, (-1, d)))

        self.split, self.mixture, self.n_outputs = split, mixture, d
        self.model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss=loss)

    def fit(self, X, y, epochs=None):
        if self.model is None:
            self._build(X.shape[1], 1 if y.ndim == 1 else y.shape[1])
        self.model.fit(X, y, batch_size=BATCH, epochs=epochs or self.epochs, verbose=0, shuffle=True)

    def fit_one_epoch(self, X, y):
        self.fit(X, y, epochs=1)

    def log_likelihood(self, X, y):
        parameters = self.model.predict(X, batch_size=8192, verbose=0)
        y = np.asarray(y, dtype=np.float32).reshape(len(X), self.n_outputs)
        return float(np.mean(self.mixture(parameters).log_prob(y).numpy()))

    def predict(self, X):
        return self.model.predict(X, batch_size=8192, verbose=0)

    def sample(self, X, n_draws):
        parameters = self.predict(X)
        K, d = self.n_components, self.n_outputs
        mu, sigma, logit = (np.asarray(a) for a in self.split(parameters))
        weights = np.exp(logit - logit.max(axis=1, keepdims=True))
        weights /= weights.sum(axis=1, keepdims=True)
        draws = np.empty((len(X), n_draws, d))
        for row in range(len(X)):
            for draw in range(n_draws):
                k = np.random.choice(K, p=weights[row])
                draws[row, draw] = np.random.normal(mu[row, k * d : (k + 1) * d], sigma[row, k * d : (k + 1) * d])
        return draws


class Mlp:
    name = "mlp"

    def __init__(self, n_components, epochs):
        from sklearn.neural_network import MLPRegressor

        self.model = MLPRegressor(
            hidden_layer_sizes=HIDDEN, activation="relu", batch_size=BATCH,
            learning_rate_init=LEARNING_RATE, max_iter=epochs, tol=0.0,
            n_iter_no_change=10**9, alpha=0.0, random_state=0,
        )
        self.residual_std = None

    def fit(self, X, y):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model.fit(X, y)
        self._residuals(X, y)

    def fit_one_epoch(self, X, y):
        self.model.partial_fit(X, y)
        self._residuals(X, y)

    def _residuals(self, X, y):
        residuals = np.asarray(y).reshape(len(X), -1) - self.model.predict(X).reshape(len(X), -1)
        self.residual_std = residuals.std(axis=0)

    def log_likelihood(self, X, y):
        from scipy.stats import norm

        prediction = self.model.predict(X).reshape(len(X), -1)
        return float(np.mean(np.sum(norm.logpdf(np.asarray(y).reshape(len(X), -1), prediction, self.residual_std), axis=1)))

    def predict(self, X):
        return self.model.predict(X)

    def sample(self, X, n_draws):
        prediction = self.model.predict(X).reshape(len(X), 1, -1)
        rng = np.random.default_rng(0)
        return prediction + self.residual_std * rng.standard_normal((len(X), n_draws, prediction.shape[2]))


CONTESTANTS = {cls.name: cls for cls in (Skmdn, Recipe, Mlp)}


def peak_memory_mb():
    """This process's peak resident memory (VmHWM). Not ru_maxrss: Linux keeps
    that across exec, so a child would report its parent's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


# -- one case in this process ---------------------------------------------------------


def run_main_case(name, epochs):
    """Recipe settings on the spiral: every figure of the main table."""
    start = time.perf_counter()
    contestant = CONTESTANTS[name](N_COMPONENTS, epochs)
    import_seconds = time.perf_counter() - start
    X, y, X_test, y_test = spiral_data()
    result = {"import_s": import_seconds}
    # Whole fit, first in this process (pays TensorFlow's import for skmdn and
    # tracing for both Keras models), then per-epoch cost from a second model.
    result["fit_s"], _ = timed(contestant.fit, X, y)
    result["per_epoch_s"] = result["fit_s"] / epochs
    second = CONTESTANTS[name](N_COMPONENTS, epochs)
    seconds, _ = timed(second.fit, X, y)
    result["per_epoch_warm_s"] = seconds / epochs
    # Time to reach the held-out log-likelihood within 0.05 nats of the best
    # this run reaches: one epoch at a time, evaluation time excluded.
    tracker = CONTESTANTS[name](N_COMPONENTS, epochs)
    training, curve = 0.0, []
    for _ in range(epochs):
        seconds, _ = timed(tracker.fit_one_epoch, X, y)
        training += seconds
        curve.append((training, tracker.log_likelihood(X_test, y_test)))
    best = max(score for _, score in curve)
    result["best_test_ll"] = best
    result["time_to_target_s"] = next(t for t, score in curve if score >= best - 0.05)
    X_predict = np.linspace(X.min(), X.max(), PREDICT_ROWS, dtype=np.float32)[:, None]
    # Warm: the first predict of a process traces the forward pass (and, for
    # skmdn, loads the compiled mode search).
    contestant.predict(X_predict[:10])
    result["predict_s"], _ = timed(contestant.predict, X_predict)
    X_draw = X_predict[: DRAWS // 10]
    result["sample_s"], _ = timed(contestant.sample, X_draw, 10)
    result["peak_mb"] = peak_memory_mb()
    return result


def run_large_case(name, n_rows, n_features, n_outputs, n_components):
    """One epoch on a large or high-dimensional case.

    Memory: the peak after a warm-up fit on a few rows (libraries loaded,
    graphs traced) and the peak after the full epoch; their difference is
    what training on the full data cost.
    """
    X, y = wide_data(n_rows, n_features, n_outputs)
    data_mb = (X.nbytes + y.nbytes) / 2**20
    contestant = CONTESTANTS[name](n_components, 1)
    contestant.fit_one_epoch(X[:BATCH * 4], y[: BATCH * 4])  # imports and tracing
    before_mb = peak_memory_mb()
    seconds, _ = timed(contestant.fit_one_epoch, X, y)
    return {
        "epoch_s": seconds,
        "data_mb": data_mb,
        "peak_mb": peak_memory_mb(),
        "before_fit_mb": before_mb,
    }


def run_defaults_case(params, data):
    """skmdn's defaults with ``params``: a whole fit and the mode of
    ``PREDICT_ROWS`` rows, on 2,000 rows of the spiral (``data="spiral"``)
    or of the correlated two-output problem of ``benchmarks/covariance.py``
    (``"correlated"``)."""
    from skmdn import MDNRegressor

    if data == "spiral":
        from skmdn.datasets import make_spiral

        X, y = make_spiral(2_000, random_state=0)
    else:
        from covariance import make_correlated_branches

        X, y = make_correlated_branches(2_000, seed=0)
    X_predict = np.linspace(X.min(), X.max(), PREDICT_ROWS)[:, None]
    # The first fit and predict of the process pay tracing and loading.
    MDNRegressor(**params, max_iter=2, random_state=1).fit(X, y).predict(X[:10])
    seconds, model = timed(MDNRegressor(**params, random_state=0).fit, X, y)
    predict_seconds, _ = timed(model.predict, X_predict)
    return {
        "fit_s": seconds,
        "epochs": model.n_iter_,
        "epoch_s": seconds / model.n_iter_,
        "predict_s": predict_seconds,
    }


# -- driver -------------------------------------------------------------------------------


def in_subprocess(arguments):
    output = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(arguments)],
        capture_output=True, text=True, check=False,
    )
    if output.returncode != 0:
        raise RuntimeError(f"{arguments} failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def ratio(value, reference):
    return f"{reference / value:.1f}x" if value > 0 else "-"


def main(epochs, skip_large, skip_networks):
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    import tensorflow as tf

    devices = [device.device_type for device in tf.config.list_physical_devices()]
    print(f"TensorFlow {tf.__version__}, devices: {devices}")
    print(f"\nRecipe settings: spiral, 10,000 rows, {HIDDEN} relu, K = {N_COMPONENTS}, batch {BATCH}, {epochs} epochs")
    results = {name: in_subprocess({"case": "main", "name": name, "epochs": epochs}) for name in CONTESTANTS}
    rows = [
        ("import (s)", "import_s"),
        ("first fit, whole (s)", "fit_s"),
        ("seconds per epoch, first fit", "per_epoch_s"),
        ("seconds per epoch, second fit", "per_epoch_warm_s"),
        ("time to best test LL - 0.05 nats (s)", "time_to_target_s"),
        ("best test log-likelihood (nats)", "best_test_ll"),
        (f"predict {PREDICT_ROWS:,} rows (s)", "predict_s"),
        (f"sample {DRAWS:,} draws (s)", "sample_s"),
        ("peak memory (MB)", "peak_mb"),
    ]
    header = f"{'':<40}" + "".join(f"{name:>12}" for name in CONTESTANTS) + f"{'recipe/skmdn':>14}{'mlp/skmdn':>11}"
    print(header + "\n" + "-" * len(header))
    for label, key in rows:
        values = [results[name][key] for name in CONTESTANTS]
        line = f"{label:<40}" + "".join(f"{value:>12.3f}" for value in values)
        if key not in ("best_test_ll",):
            line += f"{ratio(values[0], values[1]):>14}{ratio(values[0], values[2]):>11}"
        print(line)
    print("(ratios: the baseline's figure divided by skmdn's; above 1x skmdn is faster or smaller)")
    if not skip_networks:
        for title, key, variants in [
            ("Defaults with 1 and 5 networks: spiral", "n_networks", (1, 5)),
            ("Defaults with diagonal and full covariance: two correlated outputs",
             "covariance_type", ("diag", "full")),
        ]:
            data = "spiral" if key == "n_networks" else "correlated"
            print(f"\n{title}, 2,000 rows, whole fit with early stopping")
            found = {v: in_subprocess({"case": "defaults", "params": {key: v}, "data": data}) for v in variants}
            first, second = variants
            print(f"{'':<40}{f'{key}={first}':>22}{f'{key}={second}':>22}{'ratio':>8}")
            for label, field in [
                ("whole fit (s)", "fit_s"),
                ("epochs", "epochs"),
                ("seconds per epoch", "epoch_s"),
                (f"predict {PREDICT_ROWS:,} rows (s)", "predict_s"),
            ]:
                a, b = found[first][field], found[second][field]
                print(f"{label:<40}{a:>22.4f}{b:>22.4f}{b / a:>7.1f}x")
    if skip_large:
        return
    for title, case in [
        ("1,000,000 rows x 10 features, K = 20, one epoch", dict(n_rows=1_000_000, n_features=10, n_outputs=1, n_components=20)),
        ("K = 50 components, 5-dimensional y, 10,000 rows, one epoch", dict(n_rows=10_000, n_features=10, n_outputs=5, n_components=50)),
    ]:
        print(f"\n{title}")
        large = {name: in_subprocess({"case": "large", "name": name, **case}) for name in CONTESTANTS}
        print(f"{'':<40}" + "".join(f"{name:>12}" for name in CONTESTANTS) + f"{'recipe/skmdn':>14}{'mlp/skmdn':>11}")
        for label, key in [("epoch (s)", "epoch_s"), ("peak memory (MB)", "peak_mb"), ("peak before the full fit (MB)", "before_fit_mb")]:
            values = [large[name][key] for name in CONTESTANTS]
            print(f"{label:<40}" + "".join(f"{value:>12.2f}" for value in values)
                  + f"{ratio(values[0], values[1]):>14}{ratio(values[0], values[2]):>11}")
        print(f"(data: {large['skmdn']['data_mb']:.0f} MB as float32)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--skip-networks", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        job = json.loads(arguments.child)
        case = job.pop("case")
        cases = {"main": run_main_case, "large": run_large_case, "defaults": run_defaults_case}
        result = cases[case](**job)
        print(json.dumps(result))
    else:
        main(arguments.epochs, arguments.skip_large, arguments.skip_networks)
