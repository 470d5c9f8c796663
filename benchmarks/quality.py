"""Density quality: held-out log-likelihood against exact densities and UCI peers.

Prints three tables (also written as JSON with ``--output``):

1. Known truth. On the noisy two-turn spiral and Bishop's inverse problem the
   exact conditional density p(y | x) is computed numerically (integrating over
   the spiral's latent angle; the inverse problem's p(t | x) is uniform on
   {t : |x - t - 0.3 sin(2 pi t)| < 0.1}). Reported: mean held-out
   log-likelihood of the truth and of skmdn (defaults, five networks, and the
   keras-io recipe's settings), and the gap in nats.
2. UCI regression benchmark (../shared/datasets/uci, Hernandez-Lobato & Adams
   2015 splits; never copied into the repository). Test negative
   log-likelihood in the original units of y, mean and standard error over the
   splits, for: skmdn with defaults, skmdn tuned by GridSearchCV on the train
   split only, skmdn with five networks (``n_networks=5``; model ``networks``,
   run only when asked for), a linear-Gaussian model, MLPRegressor with a
   Gaussian on its residuals, and NGBoost (``pip install ngboost``; the
   ``benchmark`` extra).
3. Data kinds (opt-in: run only when ``--kinds`` is given). Generated data
   that stress the defaults, each built at run time from numpy and
   scikit-learn's bundled data and generators (nothing is downloaded); see
   ``DATA_KINDS``. For each kind and seed (``--kind-seeds``, default 3): the
   seed draws the data (with ``--kind-rows``, that many rows of every kind)
   and a random 80/20 train/test split; test negative
   log-likelihood in the original units of y, mean and standard error over
   the seeds, and the median fit time in seconds (``fit`` alone, not
   ``predict``), for ``default`` (``MDNRegressor()``), ``no_x_noise``
   (``MDNRegressor(x_noise_std=0.0)``), ``linear`` (linear-Gaussian),
   ``mlp`` (MLPRegressor on standardised X and standardised y, with a
   Gaussian on its residuals) and ``ngboost`` (only if it is importable).

   The kinds are split in two groups. The ``choosing`` group may be used to
   choose defaults. The ``checking`` group must never be: it is there only
   to check defaults chosen elsewhere, so a change that is tuned on it voids
   it. The two near-noise-free kinds (y recorded to 3 decimals: a smooth
   function of 16 independent inputs, and a function of small deviations of
   16 correlated readings from a three-dimensional manifold, like the
   held-out data set on which a fixed input noise lost 2.6 nats) are in the
   checking group; so are skewed (log-normal) noise, small n, large n,
   scikit-learn's diabetes data and ``make_friedman3``. The choosing group:
   heteroscedastic noise, Student-t noise (3 degrees of freedom), Poisson
   counts, 5 informative features among 50, ``make_friedman1`` and
   ``make_friedman2``.

Run: ``python benchmarks/quality.py [--splits 20] [--tuned-splits 5]
[--datasets boston concrete] [--models default tuned networks linear mlp
ngboost] [--truth-seeds 3] [--truth-first-seed 0] [--truth-settings defaults
networks recipe] [--skip-truth] [--skip-uci] [--kinds choosing checking smooth16 ...]
[--kind-seeds 3] [--kind-rows N] [--kind-models default no_x_noise linear mlp ngboost]
[--output results.json]``.
"""

import argparse
import json
import math
import os
import pathlib
import time
import warnings

import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm
from sklearn.datasets import load_diabetes, make_friedman1, make_friedman2, make_friedman3
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmdn import MDNRegressor
from skmdn.datasets import make_inverse_sine, make_spiral

UCI_ROOT = pathlib.Path(__file__).resolve().parents[2] / "shared" / "datasets" / "uci"
UCI = {
    "boston": "bostonHousing",
    "concrete": "concrete",
    "energy": "energy",
    "wine": "wine-quality-red",
    "yacht": "yacht",
}
# The grid GridSearchCV searches on each train split (3-fold CV, scored by
# MDNRegressor.score, the mean log-likelihood): n_components, and noise
# regularisation on the targets or on the inputs. Every candidate sets both
# noise levels, so the grid does not move with the defaults.
TUNING_GRID = [
    {"n_components": [3, 5, 10], "x_noise_std": [0.0], "y_noise_std": [0.0, 0.05, 0.2]},
    {"n_components": [3, 5, 10], "x_noise_std": [0.05], "y_noise_std": [0.0]},
]


# -- exact conditional densities -------------------------------------------------


def spiral_log_density(x, y, noise=0.2, revolutions=2, n_angles=40_001):
    """log p(y | x) of ``make_spiral`` data, integrating over the latent angle."""
    radius = 2.0 * math.pi * revolutions
    scale = 5.0 / (2.0 * radius)  # make_spiral's fixed affine map
    angle = np.linspace(0.0, radius, n_angles)
    curve_x = (angle * np.cos(angle) + radius) * scale
    curve_y = (angle * np.sin(angle) + radius) * scale
    sigma = noise * scale
    log_x = norm.logpdf(x[:, None], curve_x, sigma)
    log_joint = logsumexp(log_x + norm.logpdf(y[:, None], curve_y, sigma), axis=1)
    return log_joint - logsumexp(log_x, axis=1)


def inverse_log_density(x, t, noise=0.1, n_grid=200_001):
    """log p(t | x) of ``make_inverse_sine`` data: minus the log length of the
    set {t in [0, 1] : |x - t - 0.3 sin(2 pi t)| < noise}."""
    grid = np.linspace(0.0, 1.0, n_grid)
    forward = grid + 0.3 * np.sin(2.0 * math.pi * grid)
    lengths = np.array(
        [np.mean(np.abs(value - forward) < noise) for value in x]
    )  # a loop over 2,000 test points: this is the reference, not the product
    inside = np.abs(x - t - 0.3 * np.sin(2.0 * math.pi * t)) < noise
    return np.where(inside, -np.log(lengths), -np.inf)


# The known-truth problems' skmdn settings: (label, parameters).
TRUTH_SETTINGS = {
    "defaults": ("skmdn defaults", {}),
    "networks": ("skmdn, 5 networks", dict(n_networks=5)),
    "recipe": (
        "skmdn, recipe settings",
        dict(n_components=20, hidden_layer_sizes=(128, 128), batch_size=128),
    ),
}


def known_truth(n_seeds, first_seed=0, setting_names=tuple(TRUTH_SETTINGS)):
    """Rows (problem, model, mean log-likelihood, gap to the truth) over the
    seeds first_seed, ..., first_seed + n_seeds - 1."""
    problems = {
        "spiral": (make_spiral, spiral_log_density),
        "inverse problem": (make_inverse_sine, inverse_log_density),
    }
    settings = dict(TRUTH_SETTINGS[name] for name in setting_names)
    rows = []
    for problem, (make, exact) in problems.items():
        scores = {name: [] for name in ["truth", *settings]}
        for seed in range(first_seed, first_seed + n_seeds):
            X, y = make(2000, random_state=seed)
            X_test, y_test = make(2000, random_state=seed + 100)
            scores["truth"].append(float(np.mean(exact(X_test[:, 0], y_test))))
            for name, params in settings.items():
                model = MDNRegressor(random_state=seed, **params).fit(X, y)
                scores[name].append(model.score(X_test, y_test))
        truth = np.mean(scores["truth"])
        for name, values in scores.items():
            rows.append((problem, name, float(np.mean(values)), float(truth - np.mean(values))))
    return rows


# -- UCI -------------------------------------------------------------------------


def load_uci(name):
    folder = UCI_ROOT / UCI[name]
    data = np.loadtxt(folder / "data.txt")
    features = np.loadtxt(folder / "index_features.txt", dtype=int)
    target = int(np.loadtxt(folder / "index_target.txt"))
    n_splits = int(np.loadtxt(folder / "n_splits.txt")) if (folder / "n_splits.txt").exists() else 20
    splits = [
        (
            np.loadtxt(folder / f"index_train_{i}.txt", dtype=int),
            np.loadtxt(folder / f"index_test_{i}.txt", dtype=int),
        )
        for i in range(n_splits)
    ]
    return data[:, features], data[:, target], splits


def gaussian_nll(y_test, prediction, residual_std):
    return float(-np.mean(norm.logpdf(y_test, prediction, residual_std)))


def fit_and_score(name, X, y, X_test, y_test, seed):
    """Test negative log-likelihood of model ``name`` trained on (X, y)."""
    if name == "default":
        return -MDNRegressor(random_state=seed).fit(X, y).score(X_test, y_test)
    if name == "networks":
        return -MDNRegressor(n_networks=5, random_state=seed).fit(X, y).score(X_test, y_test)
    if name == "tuned":
        search = GridSearchCV(MDNRegressor(random_state=seed), TUNING_GRID, cv=3)
        return -search.fit(X, y).score(X_test, y_test)
    if name in ("linear", "mlp"):
        regressor = (
            LinearRegression()
            if name == "linear"
            else make_pipeline(StandardScaler(), MLPRegressor(max_iter=500, random_state=seed))
        )
        regressor.fit(X, y)
        residual_std = np.std(y - regressor.predict(X))
        return gaussian_nll(y_test, regressor.predict(X_test), residual_std)
    if name == "ngboost":
        from ngboost import NGBRegressor

        model = NGBRegressor(verbose=False, random_state=seed).fit(X, y)
        return float(-np.mean(model.pred_dist(X_test).logpdf(y_test)))
    raise ValueError(name)


def uci(datasets, models, n_splits, n_tuned_splits):
    results = {}
    for dataset in datasets:
        X_all, y_all, splits = load_uci(dataset)
        for model in models:
            start = time.perf_counter()
            used = splits[: n_tuned_splits if model == "tuned" else n_splits]
            values = [
                fit_and_score(model, X_all[train], y_all[train], X_all[test], y_all[test], seed)
                for seed, (train, test) in enumerate(used)
            ]
            results[dataset, model] = values
            print(
                f"  {dataset:<9}{model:<9}{np.mean(values):8.3f} +- "
                f"{np.std(values, ddof=1) / math.sqrt(len(values)) if len(values) > 1 else float('nan'):.3f}"
                f"  ({len(values)} splits, {time.perf_counter() - start:.0f} s)",
                flush=True,
            )
    return results


# -- data kinds --------------------------------------------------------------------


def _smooth16(n_rows, seed):
    """A smooth function of 16 uniform inputs without noise, recorded to 3
    decimals (51 distinct values at 2,500 rows): like a measurement rounded
    on export."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, (n_rows, 16))
    weights = np.linspace(1.0, 0.1, 16)  # fixed, not drawn: the same function for every seed
    f = X @ weights + 0.5 * np.sin(2.0 * np.pi * X[:, 0]) + X[:, 1] * X[:, 2]
    return X, np.round(0.01 * f, 3)


def _manifold16(n_rows, seed):
    """16 sensor-like readings driven by three latent settings (an operating
    level and two slow drifts), y the first drift recorded to 3 decimals (51
    values), no noise: the drifts move the readings by at most 8.5 % (4 %
    for 99 % of them; nonlinearly, by an amount the level sets) while the
    level moves them by factors of up to 9, so y is a function of small deviations from a
    three-dimensional manifold in X."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(1.0, 9.0, n_rows)
    drift = 0.95 + rng.integers(0, 51, n_rows) / 1000.0
    other = 0.975 + rng.integers(0, 26, n_rows) / 1000.0
    # Fixed, not drawn per seed: the same readings for every seed.
    fixed = np.random.default_rng(16)
    powers = fixed.uniform(0.3, 1.0, 16)
    sensitivity = fixed.uniform(-0.02, 0.02, (2, 16))
    bend = fixed.uniform(-0.5, 0.5, (2, 16))
    u = (drift - 0.975) / 0.025  # in [-1, 1]
    v = (other - 0.9875) / 0.0125
    X = level[:, None] ** powers * (
        1.0
        + sensitivity[0] * (u + 0.4 * u**2)[:, None] * level[:, None] ** bend[0]
        + sensitivity[1] * np.tanh(1.5 * v)[:, None] * level[:, None] ** bend[1]
    )
    return X, np.round(drift, 3)


def _heteroscedastic(n_rows, seed):
    """Gaussian noise whose standard deviation runs from 0.05 to 1.25 with x_1 and |x_4|."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (n_rows, 4))
    mean = np.sin(2.0 * X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, 2]
    scale = 0.05 + 0.5 * (X[:, 0] + 1.0) ** 2 / 2.0 + 0.2 * np.abs(X[:, 3])
    return X, mean + scale * rng.standard_normal(n_rows)


def _student_t(n_rows, seed):
    """make_friedman1's mean with Student-t noise of 3 degrees of freedom."""
    X, mean = make_friedman1(n_rows, noise=0.0, random_state=seed)
    rng = np.random.default_rng(seed + 10_000)
    return X, mean + rng.standard_t(3, n_rows)


def _skewed(n_rows, seed):
    """A smooth mean plus right-skewed log-normal noise (sigma 0.75 on the log
    scale, scale growing with x_1)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, (n_rows, 6))
    mean = 2.0 * np.sin(np.pi * X[:, 0]) + 2.0 * X[:, 1] * X[:, 2] + X[:, 3]
    noise = rng.lognormal(0.0, 0.75, n_rows) * (0.5 + X[:, 1])
    return X, mean + noise


def _poisson(n_rows, seed):
    """Poisson counts (discrete targets, many zeros) with a log-linear-plus-sine rate."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (n_rows, 5))
    rate = np.exp(0.5 + 0.8 * X[:, 0] - 0.6 * X[:, 1] + 0.7 * np.sin(3.0 * X[:, 2]))
    return X, rng.poisson(rate).astype(float)


def _irrelevant(n_rows, seed):
    """make_friedman1 with 5 informative and 45 irrelevant uniform features."""
    return make_friedman1(n_rows, n_features=50, noise=1.0, random_state=seed)


def _small_n(n_rows, seed):
    """A smooth function of 3 inputs with Gaussian noise, 150 rows."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, (n_rows, 3))
    mean = np.sin(X[:, 0]) * X[:, 1] + 0.3 * X[:, 2] ** 2
    return X, mean + 0.3 * rng.standard_normal(n_rows)


def _large_n(n_rows, seed):
    """make_friedman1 with 8 features (noise 1), shifted by +2 with probability
    x_6 and by -2 otherwise (bimodal where x_6 is near 0.5), 20,000 rows."""
    X, y = make_friedman1(n_rows, n_features=8, noise=1.0, random_state=seed)
    rng = np.random.default_rng(seed + 10_000)
    shift = np.where(rng.uniform(size=n_rows) < X[:, 5], 2.0, -2.0)
    return X, y + shift


def _diabetes(n_rows, seed):
    """scikit-learn's bundled diabetes data (442 rows; n_rows is ignored)."""
    return load_diabetes(return_X_y=True)


def _friedman1(n_rows, seed):
    return make_friedman1(n_rows, noise=1.0, random_state=seed)


def _friedman2(n_rows, seed):
    return make_friedman2(n_rows, noise=10.0, random_state=seed)


def _friedman3(n_rows, seed):
    return make_friedman3(n_rows, noise=0.1, random_state=seed)


# name: (make(n_rows, seed) -> (X, y), n_rows, group). The "checking" group is
# never to be used to choose defaults, only to check them (module docstring).
DATA_KINDS = {
    "heteroscedastic": (_heteroscedastic, 1000, "choosing"),
    "student_t": (_student_t, 1000, "choosing"),
    "poisson": (_poisson, 1000, "choosing"),
    "irrelevant": (_irrelevant, 1000, "choosing"),
    "friedman1": (_friedman1, 600, "choosing"),
    "friedman2": (_friedman2, 600, "choosing"),
    "smooth16": (_smooth16, 2500, "checking"),
    "manifold16": (_manifold16, 3000, "checking"),
    "skewed": (_skewed, 1000, "checking"),
    "small_n": (_small_n, 150, "checking"),
    "large_n": (_large_n, 20_000, "checking"),
    "diabetes": (_diabetes, 442, "checking"),
    "friedman3": (_friedman3, 600, "checking"),
}
KIND_MODELS = ["default", "no_x_noise", "linear", "mlp", "ngboost"]


def resolve_kinds(names):
    """Expand the group names ``choosing`` and ``checking`` into kind names."""
    kinds = []
    for name in names:
        if name in ("choosing", "checking"):
            expanded = [kind for kind, (_, _, group) in DATA_KINDS.items() if group == name]
        elif name in DATA_KINDS:
            expanded = [name]
        else:
            raise SystemExit(f"unknown data kind {name!r}; one of {[*DATA_KINDS, 'choosing', 'checking']}")
        kinds += [kind for kind in expanded if kind not in kinds]
    return kinds


def fit_and_score_kind(name, X, y, X_test, y_test, seed):
    """(test negative log-likelihood in y's units, seconds spent in fit)."""
    if name in ("default", "no_x_noise"):
        params = {} if name == "default" else {"x_noise_std": 0.0}
        model = MDNRegressor(random_state=seed, **params)
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
        return -model.score(X_test, y_test), seconds
    if name == "linear":
        start = time.perf_counter()
        regressor = LinearRegression().fit(X, y)
        seconds = time.perf_counter() - start
        residual_std = np.std(y - regressor.predict(X))
        return gaussian_nll(y_test, regressor.predict(X_test), residual_std), seconds
    if name == "mlp":
        # y standardised for the network (unlike the UCI table's mlp, which
        # fits raw y); the Gaussian on the residuals is in y's units.
        y_mean, y_std = float(np.mean(y)), float(np.std(y))
        regressor = make_pipeline(StandardScaler(), MLPRegressor(max_iter=500, random_state=seed))
        start = time.perf_counter()
        regressor.fit(X, (y - y_mean) / y_std)
        seconds = time.perf_counter() - start
        residual_std = np.std(y - (y_mean + y_std * regressor.predict(X)))
        return gaussian_nll(y_test, y_mean + y_std * regressor.predict(X_test), residual_std), seconds
    if name == "ngboost":
        from ngboost import NGBRegressor

        start = time.perf_counter()
        model = NGBRegressor(verbose=False, random_state=seed).fit(X, y)
        seconds = time.perf_counter() - start
        return float(-np.mean(model.pred_dist(X_test).logpdf(y_test))), seconds
    raise ValueError(name)


def data_kinds(kinds, models, n_seeds, rows=None):
    """{(kind, model): {"n_rows": rows drawn, "nll": [per seed],
    "fit_seconds": [per seed]}}; ``rows`` replaces every kind's number of
    rows (diabetes has its own)."""
    results = {}
    for kind in kinds:
        make, n_rows, group = DATA_KINDS[kind]
        splits = []
        for seed in range(n_seeds):
            X, y = make(rows or n_rows, seed)
            splits.append(train_test_split(X, y, test_size=0.2, random_state=seed))
        n_drawn = len(y)
        for model in models:
            start = time.perf_counter()
            nll, seconds = [], []
            for seed, (X_train, X_test, y_train, y_test) in enumerate(splits):
                value, fit_seconds = fit_and_score_kind(model, X_train, y_train, X_test, y_test, seed)
                nll.append(float(value))
                seconds.append(fit_seconds)
            results[kind, model] = {"n_rows": n_drawn, "nll": nll, "fit_seconds": seconds}
            print(
                f"  {kind:<16}{group:<9}{model:<11}{np.mean(nll):9.3f} +- {standard_error(nll):.3f}"
                f"  fit {np.median(seconds):7.2f} s  ({n_seeds} seeds, {time.perf_counter() - start:.0f} s)",
                flush=True,
            )
    return results


def standard_error(values):
    return float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else float("nan")


def main(arguments):
    warnings.simplefilter("ignore")
    print(f"machine: {os.cpu_count()} cores")
    output = {}
    if not arguments.skip_truth:
        first, last = arguments.truth_first_seed, arguments.truth_first_seed + arguments.truth_seeds - 1
        print("\nKnown truth: mean held-out log-likelihood (nats, higher is better), "
              f"seeds {first} to {last}, 2,000 train / 2,000 test rows")
        rows = known_truth(arguments.truth_seeds, first, arguments.truth_settings)
        print(f"{'problem':<18}{'model':<26}{'log-lik':>9}{'gap':>8}")
        for problem, name, value, gap in rows:
            print(f"{problem:<18}{name:<26}{value:>9.3f}{gap:>8.3f}")
        output["truth"] = rows
    if arguments.datasets and not arguments.skip_uci:
        print(f"\nUCI: test NLL (lower is better), mean +- standard error over {arguments.splits} splits")
        results = uci(
            arguments.datasets, arguments.models, arguments.splits,
            arguments.tuned_splits or arguments.splits,
        )
        header = f"{'data':<10}" + "".join(f"{model:>16}" for model in arguments.models)
        print(header + "\n" + "-" * len(header))
        for dataset in arguments.datasets:
            cells = []
            for model in arguments.models:
                values = results[dataset, model]
                error = np.std(values, ddof=1) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
                cells.append(f"{np.mean(values):>9.3f}+-{error:.3f}")
            print(f"{dataset:<10}" + "".join(f"{cell:>16}" for cell in cells))
        output["uci"] = {f"{d}/{m}": v for (d, m), v in results.items()}
    if arguments.kinds:
        kinds = resolve_kinds(arguments.kinds)
        models = list(arguments.kind_models)
        if "ngboost" in models:
            try:
                import ngboost  # noqa: F401
            except ImportError:
                print("\nngboost is not importable: its column is left out")
                models.remove("ngboost")
        print(
            f"\nData kinds: test NLL in y's units (lower is better), mean +- standard error over "
            f"{arguments.kind_seeds} seeds (data and 80/20 split drawn per seed); median fit seconds"
        )
        results = data_kinds(kinds, models, arguments.kind_seeds, arguments.kind_rows)
        header = f"{'kind':<16}{'group':<9}{'n':>6}" + "".join(f"{model:>24}" for model in models)
        print(header + "\n" + "-" * len(header))
        for kind in kinds:
            cells = [
                f"{np.mean(r['nll']):.3f}+-{standard_error(r['nll']):.3f}"
                f" ({np.median(r['fit_seconds']):.1f}s)"
                for r in (results[kind, model] for model in models)
            ]
            n_rows = results[kind, models[0]]["n_rows"]
            group = DATA_KINDS[kind][2]
            print(f"{kind:<16}{group:<9}{n_rows:>6}" + "".join(f"{cell:>24}" for cell in cells))
        output["kinds"] = {
            f"{kind}/{model}": {
                "group": DATA_KINDS[kind][2],
                "nll_mean": float(np.mean(r["nll"])),
                "nll_standard_error": standard_error(r["nll"]),
                "fit_seconds_median": float(np.median(r["fit_seconds"])),
                **r,
            }
            for (kind, model), r in results.items()
        }
    if arguments.output:
        pathlib.Path(arguments.output).write_text(json.dumps(output, indent=1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument(
        "--tuned-splits", type=int, help="splits for the tuned model (default: --splits)"
    )
    parser.add_argument("--datasets", nargs="*", default=list(UCI))
    parser.add_argument("--models", nargs="*", default=["default", "tuned", "linear", "mlp", "ngboost"])
    parser.add_argument("--truth-seeds", type=int, default=3)
    parser.add_argument("--truth-first-seed", type=int, default=0)
    parser.add_argument(
        "--truth-settings", nargs="*", default=list(TRUTH_SETTINGS), choices=list(TRUTH_SETTINGS)
    )
    parser.add_argument("--skip-truth", action="store_true")
    parser.add_argument("--skip-uci", action="store_true")
    parser.add_argument(
        "--kinds", nargs="*", default=[],
        help="data kinds to run (names, or the groups 'choosing' and 'checking'); none by default",
    )
    parser.add_argument("--kind-seeds", type=int, default=3)
    parser.add_argument("--kind-models", nargs="*", default=KIND_MODELS)
    parser.add_argument(
        "--kind-rows", type=int,
        help="draw every kind with this many rows (diabetes keeps its 442); default: each kind's own",
    )
    parser.add_argument("--output")
    main(parser.parse_args())
