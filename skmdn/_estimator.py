"""MDNRegressor: the scikit-learn estimator around the Keras mixture density network."""

import dataclasses
import math
import os
import signal
import threading
import time
import typing
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_array,
    check_is_fitted,
    validate_data,
)

from ._mixture import GaussianMixtureDistribution
from ._scaling import Scaling, row_chunks

# max_iter="auto": at least this many epochs and this many Adam steps
# (mini-batch updates). n_iter_no_change="auto": patience of at least this
# many epochs and this many steps.
AUTO_MIN_EPOCHS = 500
AUTO_MIN_STEPS = 10_000
AUTO_MIN_PATIENCE_EPOCHS = 20
AUTO_PATIENCE_STEPS = 1_000
# x_noise_std="auto" and input_penalty="auto": the patience, in Adam steps,
# of each later stage of training (see MDNRegressor._run_epochs).
STAGE_PATIENCE_STEPS = 500
# input_penalty="auto": the strength of the stage with the penalty. Strong
# enough to switch irrelevant inputs off within the stage's patience (on the
# choosing data, 30 kept nearly all that 30 followed by 10 gained, for 1.25
# times the epochs of a fit without the stage instead of 1.55).
AUTO_INPUT_PENALTY = 30.0

# validation_fraction="auto": this fraction of the rows, but at least this
# many rows where that leaves at least this many times as many in all (a
# dozen validation rows rank epochs by noise and cannot calibrate scales).
AUTO_VALIDATION_FRACTION = 0.1
AUTO_MIN_VALIDATION_ROWS = 30
AUTO_MAX_VALIDATION_SHARE = 4

# x_noise_std="auto": this fraction of Rothfuss et al.'s rate n^(-1/(4+p)).
AUTO_X_NOISE = 0.05

# calibrate_scales searches scale factors up to this (a network ten times
# too confident on its own validation rows is not one to patch up), to a
# tenth of a percent, on at most this many validation rows (the rows are in
# random order; ten thousand pin one factor down far better than that).
MAX_SCALE_FACTOR = 10.0
SCALE_FACTOR_TOLERANCE = 1e-3
CALIBRATION_ROWS = 10_000
# Fewer validation rows than this leave the scales as trained: the factor's
# standard error would exceed about 15% (1 / sqrt(2 n) in log scale).
MIN_CALIBRATION_ROWS = 20

# predict, sample, log_likelihood and the quantile and interval methods work
# through the rows in blocks whose mixtures hold about this many numbers
# (32 MiB per float64 array), whatever the number of rows asked for.
PREDICT_BLOCK_VALUES = 2**22

# A row whose mixture, in standardised units, has a mean or scale beyond this
# lies so far outside the training data that log densities of ordinary y
# would overflow float64 ((1e100)^2 is still finite): predict refuses it.
MAX_STANDARDISED_OUTPUT = 1e100

# The L2 penalty's strength in training, at most (see _train).
MAX_TRAINING_ALPHA = 1e12

# Training runs in compiled calls of about this many seconds: short enough
# that an interrupt stops a fit promptly, long enough that the calls' own
# cost does not show (benchmarks/training_calls.py: at 0.5 s, default fits
# took the same time as with the fewest calls; at 0.25 s, up to 4% longer).
CALL_SECONDS = 0.5


def _epochs(setting, min_epochs, min_steps, steps_per_epoch):
    """An epoch count given as an int, or for "auto" enough epochs for at least
    ``min_epochs`` epochs and ``min_steps`` Adam steps: an epoch of a small data
    set is only a few steps, so a count in epochs alone ends its fits early."""
    if setting != "auto":
        return setting
    return max(min_epochs, -(-min_steps // steps_per_epoch))


def _validation_rows(fraction, n_rows):
    """How many of ``n_rows`` rows early stopping holds out (see
    ``validation_fraction``)."""
    if fraction != "auto":
        return math.ceil(fraction * n_rows)
    return max(
        math.ceil(AUTO_VALIDATION_FRACTION * n_rows),
        min(AUTO_MIN_VALIDATION_ROWS, n_rows // AUTO_MAX_VALIDATION_SHARE),
    )


def _calibration_rows(validation):
    """The first ``CALIBRATION_ROWS`` validation rows (they are in random
    order) as float64 (X, y, sample_weight) arrays: what the decisions made
    once training ends (the scale factor, keeping the input noise) read."""
    return tuple(np.asarray(tensor[:CALIBRATION_ROWS], dtype=np.float64) for tensor in validation)


def _automatic_x_noise(n_rows, n_features):
    """x_noise_std="auto": a twentieth of Rothfuss et al.'s noise level
    n ** (-1 / (4 + p)), the rate of a kernel density estimate's bandwidth, so
    the noise shrinks as rows fill the input space."""
    return AUTO_X_NOISE * n_rows ** (-1.0 / (4 + n_features))


def _progress(elapsed, n_done, n_total):
    """", 2.1 s elapsed, at most 8.4 s left" for fits longer than a second."""
    if elapsed < 1.0 or n_done >= n_total:
        return ""
    remaining = elapsed / n_done * (n_total - n_done)
    return f", {elapsed:.1f} s elapsed, at most {remaining:.1f} s left"


class _Stage(typing.NamedTuple):
    """The regularisation of one stage of a fit (an ``x_noise_std`` of None:
    that of the weights kept when the stage starts), and, once the stage has
    run, its best weights and their validation criterion."""

    x_noise_std: float
    input_penalty: float
    weights: object = None
    criterion: object = None


class _Run(typing.NamedTuple):
    """What ``MDNRegressor._run_epochs`` returns: the training state (its best
    weights those of the stage kept), the loss and validation score of each
    epoch run, how training ended, the stage whose weights were kept, and
    how many stages ran."""

    state: object
    losses: list
    scores: list
    diverged: bool
    stopped: bool
    interrupted: bool
    kept: _Stage
    n_stages: int


class _InterruptRequests:
    """While a fit trains: Ctrl-C (SIGINT) sets ``made`` instead of raising,
    so that training stops between two compiled calls, with its records
    consistent. A second Ctrl-C raises at once. Installed only in the main
    thread, and only over Python's default handler."""

    def __init__(self):
        self.made = False
        self._previous = None

    def _handle(self, signum, frame):
        if self.made:
            raise KeyboardInterrupt
        self.made = True

    def __enter__(self):
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc_info):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


# MLPRegressor's parameters that it uses only with its "sgd" solver
# (learning_rate, momentum, nesterovs_momentum, power_t) or "lbfgs" (max_fun):
# with solver="adam" it ignores them, and so does MDNRegressor.from_mlp.
_MLP_ADAM_IGNORES = ("learning_rate", "momentum", "nesterovs_momentum", "power_t", "max_fun")


def _mixture(log_weights, means, scales, scale_tril=None):
    """The ``GaussianMixtureDistribution`` of the network's parameters: full
    covariance where a Cholesky factor is given. It renormalises the weights
    in float64 (the network's float32 softmax sums to one only to float32
    rounding)."""
    if scale_tril is not None:
        return GaussianMixtureDistribution(np.exp(log_weights), means, scale_tril=scale_tril)
    return GaussianMixtureDistribution(np.exp(log_weights), means, scales)


def _same_value(value, default):
    """Whether a parameter's value equals its default (sequences compared
    as tuples: hidden_layer_sizes may be a list or a tuple)."""
    if isinstance(value, (list, tuple)) and isinstance(default, (list, tuple)):
        return tuple(value) == tuple(default)
    try:
        return bool(value == default)
    except (TypeError, ValueError):
        return False


def _rows_tensor(values, rows, dtype, standardise=None):
    """``values[rows]`` as a new ``dtype`` tensor, passed through
    ``standardise`` when given.

    Built in chunks, so the float64 temporaries stay small and the only
    full-size copy of the data is the result.
    """
    from . import _network

    def fill(result):
        for chunk in row_chunks(rows.size, math.prod(values.shape[1:])):
            block = values[rows[chunk]]
            result[chunk] = block if standardise is None else standardise(block)

    return _network.filled_tensor((rows.size, *values.shape[1:]), dtype, fill)


class MDNRegressor(RegressorMixin, BaseEstimator):
    """Mixture Density Network regressor: a neural network that predicts p(y | x).

    A multi-layer perceptron maps x to the parameters of a Gaussian mixture
    ``p(y | x) = sum_k pi_k(x) N(y; mu_k(x), diag sigma_k(x)^2)`` (Bishop,
    1994), trained by minimising the negative log-likelihood. ``predict``
    returns the most probable y (the conditional mode), not an average of
    branches that never occurs; ``predict_dist`` returns the distribution;
    ``score`` is the mean log-likelihood. Parameter names follow
    ``MLPRegressor`` wherever the meaning is the same. Read more in the User
    Guide; the measurements behind the defaults are on the benchmarks page.

    Parameters
    ----------
    n_components : int, default=5
        Gaussian components K per row; choose it by cross-validated
        log-likelihood (User Guide: Choosing ``n_components``).
    hidden_layer_sizes : array-like of shape (n_layers,), default=(64, 64)
        Units of each hidden layer.
    activation : {"tanh", "relu", "identity", "logistic"}, default="tanh"
        Hidden-layer activation, as MLPRegressor's.
    n_networks : int, default=1
        Networks trained side by side, densities averaged (User Guide: Several networks).
    covariance_type : {"diag", "full"}, default="diag"
        Each component's covariance for several outputs: one scale per
        output (``"diag"``), or a full matrix through its Cholesky factor,
        so that outputs correlate within a branch (``"full"``; User Guide:
        Several outputs). The same for one output.
    alpha : float, default=1e-4
        L2 penalty on the weights, as MLPRegressor's.
    input_penalty : "auto" or float, default="auto"
        Group-lasso penalty on the weights leaving each input (the sum over
        features of their norms, in ``alpha``'s units), which switches
        irrelevant inputs off. ``"auto"``: none at first; once the
        validation score stalls, training goes on with strength 30, whose
        weights are kept only if clearly better on the validation rows (User
        Guide: Regularisation).
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)`` of the training rows.
    learning_rate : {"constant", "adaptive"}, default="constant"
        ``"adaptive"`` divides the step size by 5 instead of stopping, as MLPRegressor's.
    learning_rate_init : float, default=3e-3
        Adam's initial step size (User Guide: Regularisation).
    solver : {"adam"}, default="adam"
        The optimiser: Adam only (so MLPRegressor configurations carry over).
    beta_1 : float in [0, 1), default=0.9
        Adam's decay rate of the first moment estimates.
    beta_2 : float in [0, 1), default=0.999
        Adam's decay rate of the second moment estimates.
    epsilon : float, default=1e-8
        Adam's numerical-stability term.
    shuffle : bool, default=True
        Shuffle the training rows before every epoch.
    max_iter : int or "auto", default="auto"
        Maximum epochs; ``"auto"``: at least 500 epochs and 10,000 Adam steps.
    tol : float, default=1e-4
        Improvement of the stopping criterion that resets the patience.
    early_stopping : bool, default=True
        Stop when the held-out rows' log-likelihood (of a moving average of
        the weights) stops improving; keep the best weights.
    validation_fraction : "auto" or float, default="auto"
        Share held out; ``"auto"``: 10%, but at least 30 rows or a quarter.
    n_iter_no_change : int or "auto", default="auto"
        Epochs without an improvement of ``tol`` before stopping; ``"auto"``:
        at least 20 epochs and 1,000 Adam steps.
    min_scale : "auto" or float, default="auto"
        Floor on every component's standard deviation, in the units of y;
        ``"auto"``: the larger of 1e-3 standard deviations and 0.40 times the
        resolution of the recorded targets (fitted: ``min_scale_``).
    x_noise_std : "auto" or float, default="auto"
        Gaussian noise on the standardised inputs (Rothfuss et al., 2019);
        ``"auto"``: ``0.05 * n ** (-1 / (4 + n_features))``, kept or dropped
        by the validation rows (User Guide: Regularisation).
    y_noise_std : float, default=0.0
        The same on the standardised targets.
    calibrate_scales : bool, default=True
        With early stopping, widen the scales above the floor by the factor
        that maximises the validation log-likelihood.
    dtype : {"float32", "float64"}, default="float32"
        Precision of the network; densities, modes and samples are float64.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, noise and the validation split.
    verbose : bool, default=False
        Print the loss and validation log-likelihood of every epoch.
    warm_start : bool, default=False
        Continue from the previous fit's weights and Adam moments.

    Attributes
    ----------
    loss_curve_ : list of float
        Training loss of every epoch since the model was initialised.
    best_loss_ : float or None
        Lowest training loss while it is the stopping criterion, else None.
    validation_scores_ : list of float or None
        Validation log-likelihood of every early-stopping epoch, in y's units.
    best_validation_score_ : float or None
        Validation log-likelihood of the weights the last early-stopping fit kept.
    n_iter_ : int
        Epochs run since the model was initialised.
    t_ : int
        Training samples seen since the model was initialised.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, if X had string column names.
    n_outputs_ : int
        Number of outputs.
    model_ : keras.Model
        The network: standardised X to ``[logits, means, raw scales]`` per network.
    x_mean_, x_scale_ : ndarray of shape (n_features_in_,)
        Standardisation of X (zero-variance features get scale 1).
    y_mean_, y_scale_ : ndarray of shape (n_outputs_,)
        Standardisation of y.
    min_scale_ : ndarray of shape (n_outputs_,)
        The floor on component scales in the units of y.
    x_noise_std_ : float
        The input noise the kept weights were trained with (0 if none).
    input_penalty_ : float
        The input penalty the kept weights were trained with (0 if none).
    scale_factor_ : float
        The factor ``calibrate_scales`` chose (1 when it is off).

    See Also
    --------
    sklearn.neural_network.MLPRegressor : The point-prediction counterpart.

    References
    ----------
    .. [1] Bishop (1994). Mixture density networks. Aston University, NCRG/94/004.
    .. [2] Rothfuss et al. (2019). Noise regularization for conditional density
       estimation. arXiv:1907.08982.
    .. [3] Lakshminarayanan, Pritzel and Blundell (2017). Simple and scalable
       predictive uncertainty estimation using deep ensembles. NeurIPS.
    .. [4] Scardapane, Comminiello, Hussain and Uncini (2017). Group sparse
       regularization for deep neural networks. Neurocomputing, 241.

    Examples
    --------
    >>> from skmdn import MDNRegressor
    >>> from skmdn.datasets import make_inverse_sine
    >>> X, y = make_inverse_sine(500, random_state=0)
    >>> model = MDNRegressor(n_components=3, max_iter=50, random_state=0).fit(X, y)
    >>> model.predict(X[:2]).shape
    (2,)
    >>> model.sample(X[:2], n_samples=4, random_state=0).shape
    (2, 4)
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_networks": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions({"diag", "full"})],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "input_penalty": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "solver": [StrOptions({"adam"})],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "shuffle": ["boolean"],
        "max_iter": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "min_scale": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "x_noise_std": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "y_noise_std": [Interval(Real, 0, None, closed="left")],
        "calibrate_scales": ["boolean"],
        "dtype": [StrOptions({"float32", "float64"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        n_components=5,
        hidden_layer_sizes=(64, 64),
        activation="tanh",
        *,
        n_networks=1,
        covariance_type="diag",
        alpha=1e-4,
        input_penalty="auto",
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=3e-3,
        solver="adam",
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        shuffle=True,
        max_iter="auto",
        tol=1e-4,
        early_stopping=True,
        validation_fraction="auto",
        n_iter_no_change="auto",
        min_scale="auto",
        x_noise_std="auto",
        y_noise_std=0.0,
        calibrate_scales=True,
        dtype="float32",
        random_state=None,
        verbose=False,
        warm_start=False,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.n_networks = n_networks
        self.covariance_type = covariance_type
        self.alpha = alpha
        self.input_penalty = input_penalty
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.solver = solver
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.shuffle = shuffle
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.min_scale = min_scale
        self.x_noise_std = x_noise_std
        self.y_noise_std = y_noise_std
        self.calibrate_scales = calibrate_scales
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        # score() is a log-likelihood, not R^2; see the class docstring.
        tags.regressor_tags.poor_score = True
        return tags

    @classmethod
    def from_mlp(cls, mlp, **params):
        """An unfitted MDNRegressor with an MLPRegressor's settings.

        Carries over the parameters whose meaning is the same (the
        architecture, ``alpha``, Adam's settings, ``batch_size``,
        ``shuffle``, the epoch counts, ``tol``, early stopping, ``verbose``,
        ``warm_start``, ``random_state``). Of an ``MLPRegressor``, only the
        parameters set to other values than its defaults carry over, so the
        rest keep MDNRegressor's defaults, which were chosen for densities;
        of a dict (such as a search's ``best_params_``), every entry.
        Parameters that MLPRegressor itself ignores with ``solver="adam"``
        (``momentum``, ``nesterovs_momentum``, ``power_t``, ``max_fun`` and
        ``learning_rate``) are left out, and so is ``loss="squared_error"``:
        an MDN is trained by the negative log-likelihood of its mixture.
        See the User Guide, "Coming from MLPRegressor".

        Parameters
        ----------
        mlp : MLPRegressor or dict
            The regressor, fitted or not, or a dict of its parameters.
        **params
            Further MDNRegressor parameters (``n_components``, ...); they
            take precedence over the carried ones.

        Returns
        -------
        MDNRegressor

        Raises
        ------
        ValueError
            If the configuration uses what skmdn has no counterpart for: a
            solver other than ``"adam"``, a loss other than
            ``"squared_error"``, or a parameter neither estimator has.

        Examples
        --------
        >>> from sklearn.neural_network import MLPRegressor
        >>> from skmdn import MDNRegressor
        >>> mlp = MLPRegressor(hidden_layer_sizes=(32, 32), alpha=1e-3)
        >>> MDNRegressor.from_mlp(mlp, n_components=3)
        MDNRegressor(alpha=0.001, hidden_layer_sizes=(32, 32), n_components=3)
        """
        if hasattr(mlp, "get_params"):
            defaults = type(mlp)().get_params(deep=False)
            given = {
                name: value
                for name, value in mlp.get_params(deep=False).items()
                if not _same_value(value, defaults[name])
            }
        else:
            given = dict(mlp)
        # At MLPRegressor's defaults ("adam", "squared_error") they are not
        # among the given parameters.
        solver, loss = given.get("solver", "adam"), given.get("loss")
        if solver != "adam":
            raise ValueError(
                f"MDNRegressor trains with Adam only: solver={solver!r} has no "
                "counterpart (nor its settings momentum, nesterovs_momentum, "
                "power_t and max_fun). Tune the MLPRegressor with solver='adam' "
                "to carry its settings over."
            )
        if loss not in (None, "squared_error"):
            raise ValueError(
                f"An MDN is trained by the negative log-likelihood of its mixture; "
                f"loss={loss!r} has no counterpart. The mixture models the "
                "distribution of y itself (counts and skewed targets included)."
            )
        for name in _MLP_ADAM_IGNORES + ("loss",):
            given.pop(name, None)
        unknown = sorted(set(given) - set(cls._get_param_names()))
        if unknown:
            raise ValueError(
                f"MDNRegressor has no parameters {unknown}; they are neither "
                "MLPRegressor's nor MDNRegressor's."
            )
        return cls(**(given | params))

    # -- fitting ----------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to (X, y) by maximum likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of each sample's log-likelihood.

        Returns
        -------
        self : MDNRegressor
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, scaling=None):
        """Update the model with one epoch over (X, y), for data in chunks.

        As MLPRegressor's: the first call initialises the model, later calls
        continue from it; ``max_iter`` and ``early_stopping`` are not used.
        Consecutive calls are one run: the step size (lowered by
        ``learning_rate="adaptive"``), the best training loss and the count
        of epochs without improvement by ``tol`` carry from call to call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
        scaling : Scaling, default=None
            The standardisation of X and y for the whole data, e.g.
            ``Scaling.from_blocks`` of all the chunks. The first call fixes
            the standardisation; without ``scaling`` it is the first
            chunk's, which represents all the data only if that chunk does.
            Later calls may pass the same scaling again (as
            ``dask_ml.wrappers.Incremental`` does), not another one. See
            the User Guide's "Scaling out" page.

        Returns
        -------
        self : MDNRegressor
        """
        return self._fit(X, y, sample_weight, incremental=True, scaling=scaling)

    def _fit(self, X, y, sample_weight, incremental, scaling=None):
        from . import _network

        resume = (self.warm_start or incremental) and hasattr(self, "model_")
        rng = check_random_state(self.random_state)
        # A fit that fails, or is interrupted before its first epoch, leaves
        # the estimator as it was: a fitted model is not lost to a bad call.
        # Attributes are replaced, never changed in place, so a shallow copy
        # is a snapshot, but for the network's weights, which training
        # assigns to the same model once it ends.
        before = dict(self.__dict__)
        weights_before = _network.model_to_arrays(self.model_) if resume else None
        try:
            # The validated arrays (copies, where the input was not a float
            # numpy array) are gone by the time training starts: it holds
            # the tensors.
            data, validation, weight_scale = self._training_tensors(
                _network, X, y, sample_weight, rng, resume, incremental, scaling
            )
            interrupted = self._train(
                _network, data, validation, rng, resume, incremental, weight_scale
            )
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            if weights_before is not None:
                _network.set_model_weights(self.model_, weights_before)
            raise
        if interrupted:
            warnings.warn(
                f"Training was interrupted in epoch {self.n_iter_ + 1}; the model "
                "keeps the weights it had reached (with early stopping, the best "
                "ones so far) and can be used, saved or trained on with "
                "warm_start=True.",
                UserWarning,
            )
            raise KeyboardInterrupt
        return self

    def _training_tensors(
        self, _network, X, y, sample_weight, rng, resume, incremental, scaling=None
    ):
        """Validate the data, fit the scaling (or take ``scaling``) and build
        the model unless resuming; return the (X, y, sample_weight) tensors
        for training and for validation (empty without early stopping),
        standardised, and the power of two the weights were divided by."""
        # float32 input stays float32: the network trains in float32 anyway,
        # and a float64 copy of a large X would double the memory.
        X, y = validate_data(
            self, X, y, reset=not resume, multi_output=True, y_numeric=True,
            dtype=(np.float64, np.float32),
        )
        # validate_data leaves arrays of strings as they are; make them fail
        # here with numpy's "could not convert string to float". A float32 y
        # stays float32 (as X): no float64 copy of a large target.
        if y.dtype not in (np.float32, np.float64):
            y = y.astype(np.float64)
        y_2d = y.reshape(y.shape[0], -1)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        if not np.any(sample_weight > 0):
            raise ValueError("sample_weight must have at least one positive entry.")
        # Weights count rows, so their scale matters only against the L2
        # penalty, which is divided by their sum (as in MLPRegressor). Far
        # from 1 they would under- or overflow in float32: bring the largest
        # near 1 by a power of two (exactly) and divide alpha by the same
        # factor in training, which leaves the loss as it was. In X's
        # precision then: a float32 X gets float32 weights.
        largest = sample_weight.max()
        weight_scale = 1.0 if 2.0**-32 <= largest <= 2.0**32 else 2.0 ** float(np.frexp(largest)[1])
        sample_weight = (sample_weight / weight_scale).astype(X.dtype, copy=False)
        if scaling is not None:
            self._check_given_scaling(scaling, y_2d, resume)
        if resume:
            self._check_continuation(y_2d, incremental)
        else:
            self.n_outputs_ = y_2d.shape[1]
            self._y_is_1d = y.ndim == 1
            if scaling is None:
                scaling = Scaling.fit(X, y_2d, sample_weight, self.min_scale)
            elif self.min_scale != "auto":
                scaling = dataclasses.replace(
                    scaling, min_scale=np.full(self.n_outputs_, float(self.min_scale))
                )
            self.x_mean_, self.x_scale_ = scaling.x_mean, scaling.x_scale
            self.y_mean_, self.y_scale_ = scaling.y_mean, scaling.y_scale
            self.min_scale_ = scaling.min_scale
            self._spec = _network.NetworkSpec(
                n_features=self.n_features_in_,
                n_outputs=self.n_outputs_,
                # Python numbers, whatever numpy type the parameter had
                # (np.arange in a grid): Keras refuses numpy integers.
                n_components=int(self.n_components),
                hidden_layer_sizes=self._hidden_layer_sizes(),
                activation=str(self.activation),
                dtype=str(self.dtype),
                n_networks=int(self.n_networks),
                covariance_type=str(self.covariance_type),
            )

        if not resume:
            self.model_ = _network.build_model(self._spec, seed=rng.randint(2**31 - 1))
        # Zero-weight rows contribute nothing to the loss; dropping them keeps
        # weights exactly equivalent to repeating or removing rows.
        # Row numbers in int32 where they fit: half the memory of numpy's int64.
        rows = np.flatnonzero(sample_weight > 0)
        rows = rows.astype(np.int32) if X.shape[0] < 2**31 else rows
        n_validation = 0
        if self.early_stopping and not incremental:
            rows = rng.permutation(rows)
            n_validation = _validation_rows(self.validation_fraction, rows.size)
            if n_validation >= rows.size:
                raise ValueError(
                    f"early_stopping needs at least 2 samples to hold out "
                    f"validation_fraction={self.validation_fraction} of them; got "
                    f"{rows.size} sample(s). Pass early_stopping=False."
                )
        # One standardised copy in the training dtype, built chunk by chunk;
        # the last n_validation rows are the validation set.
        dtype = self._spec.dtype
        data, validation = (
            (
                _rows_tensor(X, subset, dtype, self._scaling.standardise_X),
                _rows_tensor(y_2d, subset, dtype, self._scaling.standardise_y),
                _rows_tensor(sample_weight, subset, dtype),
            )
            for subset in (rows[: rows.size - n_validation], rows[rows.size - n_validation :])
        )
        return data, validation, weight_scale

    @property
    def _scaling(self):
        """The fitted standardisation of X and y (see ``_scaling.Scaling``)."""
        return Scaling._unchecked(
            self.x_mean_, self.x_scale_, self.y_mean_, self.y_scale_, self.min_scale_
        )

    def _check_given_scaling(self, scaling, y_2d, resume):
        """``partial_fit``'s ``scaling`` must fit the data, and a continued
        model must have been started with it."""
        if not isinstance(scaling, Scaling):
            raise TypeError(
                "scaling must be a skmdn.Scaling (e.g. Scaling.from_blocks(...)); "
                f"got {type(scaling).__name__}."
            )
        if scaling.x_mean.size != self.n_features_in_ or scaling.y_mean.size != y_2d.shape[1]:
            raise ValueError(
                f"scaling is for {scaling.x_mean.size} features and "
                f"{scaling.y_mean.size} output(s); the data have {self.n_features_in_} "
                f"and {y_2d.shape[1]}."
            )
        if resume:
            fitted = self._scaling
            floor_given = self.min_scale == "auto"
            if not all(
                np.array_equal(getattr(scaling, name), getattr(fitted, name))
                for name in ("x_mean", "x_scale", "y_mean", "y_scale")
                + (("min_scale",) if floor_given else ())
            ):
                raise ValueError(
                    "scaling differs from the standardisation this model was "
                    "started with; pass the same scaling on every partial_fit "
                    "call, or start a new model."
                )

    def _check_continuation(self, y_2d, incremental):
        """A warm start or partial_fit must continue the same model."""
        if y_2d.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y_2d.shape[1]} outputs, but this MDNRegressor was fitted "
                f"with {self.n_outputs_}; refit with warm_start=False."
            )
        changed_early_stopping = not incremental and (
            (self.validation_scores_ is not None) != self.early_stopping
        )
        if (
            self._spec.n_components != self.n_components
            or self._spec.n_networks != self.n_networks
            or self._spec.covariance_type != self.covariance_type
            or self._spec.hidden_layer_sizes != self._hidden_layer_sizes()
            or self._spec.activation != self.activation
            or self._spec.dtype != self.dtype
            or changed_early_stopping
        ):
            raise ValueError(
                "Continuing a fit (warm_start=True or partial_fit) needs the same "
                "n_components, n_networks, covariance_type, hidden_layer_sizes, "
                "activation, dtype and early_stopping as the previous fit; refit "
                "with warm_start=False."
            )

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        if not all(isinstance(units, Integral) and units > 0 for units in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers; got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(units) for units in sizes)

    def _schedule(self, n_train, incremental):
        """Batch size, epoch budget and patience of a fit on ``n_train`` rows."""
        batch_size = min(200, n_train) if self.batch_size == "auto" else int(self.batch_size)
        if batch_size > n_train:
            warnings.warn(
                f"batch_size={batch_size} is larger than the {n_train} training "
                "samples; using full batches.",
                UserWarning,
            )
            batch_size = n_train
        steps_per_epoch = -(-n_train // batch_size)
        max_iter = 1 if incremental else _epochs(
            self.max_iter, AUTO_MIN_EPOCHS, AUTO_MIN_STEPS, steps_per_epoch
        )
        n_iter_no_change = _epochs(
            self.n_iter_no_change, AUTO_MIN_PATIENCE_EPOCHS, AUTO_PATIENCE_STEPS, steps_per_epoch
        )
        return batch_size, int(max_iter), int(n_iter_no_change)

    def _starting_state(self, _network, resume, incremental, early_stopping):
        """The training state a call starts from, and the curves it extends.

        A ``fit`` (warm or not) is a new run: its step size starts at
        ``learning_rate_init`` and its stopping criterion afresh (a warm fit
        draws a new validation split, so the old best score is no yardstick).
        Consecutive ``partial_fit`` calls are one run: the step size
        (``learning_rate="adaptive"``), the best training loss and the count
        of epochs without improvement carry from call to call; after a fit
        with early stopping, whose criterion was the validation score, the
        best training loss starts afresh.
        """
        if resume:
            state = _network.state_from_arrays(self._training_state)
        else:
            self.n_iter_, self.t_ = 0, 0
            self.loss_curve_ = []
            self.validation_scores_ = [] if early_stopping else None
            self.best_loss_ = None
            self.best_validation_score_ = None
            state = _network.initial_state(self.model_)
        if not (resume and incremental):
            state = state._replace(
                learning_rate=_network.to_tensor(self.learning_rate_init, self._spec.dtype)
            )
        if resume and (not incremental or self.best_loss_ is None):
            state = state._replace(
                best_criterion=_network.to_tensor(-math.inf, self._spec.dtype),
                no_improvement=_network.to_tensor(0, "int32"),
            )
        return state

    def _train(self, _network, data, validation, rng, resume, incremental, weight_scale):
        """Train, keep the chosen weights and record the fit; True if interrupted.

        ``data`` and ``validation`` are (X, y, sample_weight) tensors,
        standardised; ``validation`` is empty without early stopping. The
        weights were divided by ``weight_scale``, and so are the penalties.
        """
        early_stopping = self.early_stopping and not incremental
        n_train = int(data[0].shape[0])
        batch_size, max_iter, n_iter_no_change = self._schedule(n_train, incremental)
        state = self._starting_state(_network, resume, incremental, early_stopping)
        settings = self._training_settings(
            rng, weight_scale, batch_size, n_iter_no_change, early_stopping
        )
        stages = self._stages(n_train, early_stopping, validation)
        run = self._run_epochs(
            _network, state, data, validation, settings, stages, max_iter, weight_scale
        )
        state = run.state
        self.x_noise_std_ = run.kept.x_noise_std
        self.input_penalty_ = run.kept.input_penalty
        self.loss_curve_ = self.loss_curve_ + run.losses
        if early_stopping:
            self.validation_scores_ = self.validation_scores_ + run.scores
        n_done = len(run.losses)
        self.n_iter_ += n_done
        self.t_ += n_train * n_done
        final_weights, diverged = self._final_weights(
            _network, state, data, early_stopping, run.diverged, resume or n_done > 0
        )
        self._report_end(run, diverged, settings, max_iter, incremental)
        best_criterion = float(state.best_criterion)
        if early_stopping:
            self.best_loss_ = None
            self.best_validation_score_ = best_criterion
        elif math.isfinite(best_criterion):
            self.best_loss_ = -best_criterion
        _network.set_model_weights(self.model_, final_weights)
        self._training_state = _network.state_to_arrays(state._replace(weights=final_weights))
        self.scale_factor_ = (
            self._validation_scale_factor(_network, validation)
            if early_stopping and self.calibrate_scales
            else 1.0
        )
        return run.interrupted

    def _stages(self, n_train, early_stopping, validation):
        """The regularisation of each stage of this fit, the first one's first.

        A fit is one stage, unless early stopping has enough validation rows
        to choose between stages (a paired comparison on fewer rows than a
        scale calibration needs would decide by chance). Then, with
        ``x_noise_std="auto"``, a noisy first stage is followed by one
        without the noise, and with ``input_penalty="auto"`` (and several
        inputs to choose among) by one with the penalty at
        ``AUTO_INPUT_PENALTY``; each later stage starts from the weights kept
        so far (see ``_run_epochs``).
        """
        noise = (
            _automatic_x_noise(n_train, self.n_features_in_)
            if self.x_noise_std == "auto"
            else float(self.x_noise_std)
        )
        penalty = 0.0 if self.input_penalty == "auto" else float(self.input_penalty)
        stages = [_Stage(noise, penalty)]
        if not (early_stopping and validation[0].shape[0] >= MIN_CALIBRATION_ROWS):
            return stages
        if self.x_noise_std == "auto" and noise > 0:
            stages.append(_Stage(0.0, penalty))
        if self.input_penalty == "auto" and self.n_features_in_ > 1:
            # The noise of this stage is that of the weights kept by then.
            stages.append(_Stage(None, AUTO_INPUT_PENALTY))
        return stages

    def _training_settings(self, rng, weight_scale, batch_size, n_iter_no_change, early_stopping):
        """The numbers every compiled training call of this fit gets (see
        ``_network.TrainingSettings``), but for the epochs it runs and the
        regularisation of its stages."""
        return dict(
            batch_size=batch_size,
            # One seed per fit; each epoch's shuffling and noise derive from
            # it and the epoch's number, whatever calls the epochs run in.
            seed=rng.randint(0, 2**31 - 1, size=2),
            # Capped where the weights are so small that the penalty swamps
            # the likelihood whatever its exact size: above the cap, Adam's
            # squared gradients would overflow float32.
            alpha=min(float(self.alpha) / weight_scale, MAX_TRAINING_ALPHA),
            tol=float(self.tol),
            n_iter_no_change=n_iter_no_change,
            shuffle=bool(self.shuffle),
            beta_1=float(self.beta_1),
            beta_2=float(self.beta_2),
            beta_1_complement=1.0 - float(self.beta_1),
            beta_2_complement=1.0 - float(self.beta_2),
            epsilon=float(self.epsilon),
            early_stopping=early_stopping,
            adaptive=self.learning_rate == "adaptive",
            # log|det| of y's standardisation: maps standardised
            # log-likelihoods to the original units.
            log_jacobian=self._scaling.log_jacobian,
            y_noise_std=float(self.y_noise_std),
            min_scale=self._scaling.floor,
        )

    def _run_epochs(
        self, _network, state, data, validation, settings, stages, max_iter, weight_scale
    ):
        """The epochs of a fit, in compiled calls, stage by stage; returns a ``_Run``.

        Epochs run in calls of about ``CALL_SECONDS`` each, so that Python
        sees an interrupt (Ctrl-C, Jupyter's stop button) between them; the
        first calls are short, the length then adapts to the measured speed.
        When the stopping rule ends a stage and another follows, training
        goes on from the weights kept so far with the next stage's
        regularisation and a patience of ``STAGE_PATIENCE_STEPS`` (at least
        ``AUTO_MIN_PATIENCE_EPOCHS`` epochs), and a stage's best weights
        replace those kept only if they score clearly better on the
        validation rows (``_clearly_better``). ``settings`` is changed in
        place for the later stages.
        """
        network = _network.compiled_network(self._spec)
        early_stopping = settings["early_stopping"]
        n_train = int(data[0].shape[0])
        stage_patience = _epochs(
            self.n_iter_no_change,
            AUTO_MIN_PATIENCE_EPOCHS,
            STAGE_PATIENCE_STEPS,
            -(-n_train // settings["batch_size"]),
        )
        stage, kept = stages[0], None
        pending = list(stages[1:])
        settings.update(
            x_noise_std=stage.x_noise_std, input_penalty=stage.input_penalty / weight_scale
        )
        losses, scores = [], []
        n_done, diverged, stopped, interrupted = 0, False, False, False
        started = time.perf_counter()
        n_epochs = 1
        with _InterruptRequests() as requests:
            try:
                while n_done < max_iter and not (diverged or interrupted):
                    if stopped:
                        if not pending:
                            break
                        kept = self._keep(_network, kept, stage, state, validation)
                        stage = pending.pop(0)
                        if stage.x_noise_std is None:
                            stage = stage._replace(x_noise_std=kept.x_noise_std)
                        if self.verbose:
                            print(
                                f"Validation log-likelihood did not improve more than "
                                f"tol={self.tol} for {settings['n_iter_no_change']} "
                                f"consecutive epochs. Going on from the kept weights "
                                f"with input noise {stage.x_noise_std:.4g} and input "
                                f"penalty {stage.input_penalty:.4g}."
                            )
                        settings.update(
                            x_noise_std=stage.x_noise_std,
                            input_penalty=stage.input_penalty / weight_scale,
                            n_iter_no_change=stage_patience,
                        )
                        state = _network.restart_from_best(
                            state._replace(best_weights=kept.weights, best_criterion=kept.criterion)
                        )
                        stopped = False
                    call_started = time.perf_counter()
                    n_epochs = min(n_epochs, max_iter - n_done)
                    call = _network.TrainingSettings(
                        n_epochs=n_epochs, first_epoch=n_done, **settings
                    )
                    state, call_losses, call_scores, diverged, stopped = network.train(
                        state, data, validation,
                        _network.settings_to_tensors(call, self._spec.dtype),
                    )
                    diverged, stopped = bool(diverged), bool(stopped)
                    call_losses = call_losses.numpy().tolist()
                    call_scores = call_scores.numpy().tolist()
                    if self.verbose:
                        elapsed = time.perf_counter() - started
                        for offset, (loss, score) in enumerate(zip(call_losses, call_scores)):
                            message = (
                                f"Iteration {self.n_iter_ + n_done + offset + 1}, "
                                f"loss = {loss:.8f}"
                            )
                            if early_stopping:
                                message += f", validation log-likelihood = {score:.8f}"
                            print(message + _progress(elapsed, n_done + len(call_losses), max_iter))
                    losses += call_losses
                    scores += call_scores
                    n_done = len(losses)
                    seconds = time.perf_counter() - call_started
                    n_epochs = max(
                        1, min(4 * n_epochs, int(n_epochs * CALL_SECONDS / max(seconds, 1e-6)))
                    )
                    interrupted = requests.made
            except KeyboardInterrupt:
                # Raised where skmdn's handler is not installed (another
                # thread's fit, a handler of the application's own), or by
                # a second Ctrl-C during a long call.
                if not losses:
                    raise
                interrupted = True
        # A request made during the last call is honoured too.
        interrupted = interrupted or requests.made
        n_stages = len(stages) - len(pending)
        if kept is None:
            kept = stage
        else:
            kept = self._keep(_network, kept, stage, state, validation)
            state = state._replace(best_weights=kept.weights, best_criterion=kept.criterion)
        return _Run(state, losses, scores, diverged, stopped, interrupted, kept, n_stages)

    def _keep(self, _network, kept, stage, state, validation):
        """The stage whose weights to keep once ``stage`` has run: ``stage``
        (its best weights are ``state``'s) if nothing was kept before or its
        weights score clearly better on the validation rows than ``kept``'s,
        else ``kept``."""
        candidate = stage._replace(
            weights=list(state.best_weights), criterion=state.best_criterion
        )
        if kept is None or (
            float(candidate.criterion) > float(kept.criterion)
            and self._clearly_better(_network, candidate.weights, kept.weights, validation)
        ):
            return candidate
        return kept

    def _report_end(self, run, diverged, settings, max_iter, incremental):
        """Warn about divergence and an exhausted budget; say why training
        stopped and which stage's weights were kept."""
        if diverged:
            warnings.warn(
                f"Training diverged in epoch {self.n_iter_ + 1} (the loss or the "
                "network's outputs are not finite); kept the last weights known "
                "to be finite (with early stopping, the best ones). Lower "
                "learning_rate_init or raise alpha to train further.",
                ConvergenceWarning,
            )
        elif run.stopped and self.verbose:
            what = "Validation log-likelihood" if settings["early_stopping"] else "Training loss"
            print(
                f"{what} did not improve more than tol={self.tol} for "
                f"{settings['n_iter_no_change']} consecutive epochs. Stopping."
            )
        elif not (run.stopped or incremental or run.interrupted):
            warnings.warn(
                f"Maximum iterations ({max_iter}) reached and the "
                "optimization hasn't converged yet. Raise max_iter to train "
                "further, or continue this fit with warm_start=True.",
                ConvergenceWarning,
            )
        if run.n_stages > 1 and self.verbose:
            print(
                f"Kept the weights of the stage with input noise "
                f"{self.x_noise_std_:.4g} and input penalty {self.input_penalty_:.4g}: "
                "a later stage's weights are kept only where they score clearly "
                "better on the validation rows."
            )

    def _clearly_better(self, _network, weights, reference, validation):
        """Whether ``weights`` score a higher validation log-likelihood than
        ``reference`` by more than twice the standard error of the paired
        per-row difference (on at most ``CALIBRATION_ROWS`` validation rows,
        which are in random order)."""
        X, y, sample_weight = _calibration_rows(validation)
        floor = self._scaling.floor
        log_density = []
        for candidate in (weights, reference):
            parameters = _network.predict_parameters(
                self.model_, self._spec, X, floor, weights=candidate
            )
            log_density.append(_mixture(*parameters).log_prob(y))
        difference = log_density[0] - log_density[1]
        total = sample_weight.sum()
        mean = sample_weight @ difference / total
        error = math.sqrt(sample_weight**2 @ (difference - mean) ** 2) / total
        return bool(mean > 2 * error)

    def _final_weights(self, _network, state, data, early_stopping, diverged, had_weights):
        """The weights a fit keeps, and whether it diverged.

        With early stopping the best averaged weights; else the last ones, or
        where training diverged those the last accepted epoch started from.
        ``had_weights``: weights from before the divergence (an earlier fit,
        or an epoch of this one) may be kept.
        """
        min_scale = self._scaling.floor
        if early_stopping:
            final_weights = state.best_weights
        else:
            final_weights = state.weights
            # The last update of the last epoch is checked by nothing else.
            if not _network.parameters_are_finite(final_weights, self._spec, data[0], min_scale):
                diverged = True
            if diverged:
                final_weights = state.start_weights
        if diverged and (
            not had_weights
            or not _network.parameters_are_finite(final_weights, self._spec, data[0], min_scale)
        ):
            raise FloatingPointError(
                "Training diverged (the loss or the network's outputs are not "
                "finite) before any usable weights were found. Lower "
                "learning_rate_init, raise alpha, or check y for extreme values."
            )
        return final_weights, diverged

    def _validation_scale_factor(self, _network, validation):
        """The factor of at least 1 on every component's scale above the floor
        that maximises the validation log-likelihood (see ``calibrate_scales``);
        1 for fewer than ``MIN_CALIBRATION_ROWS`` validation rows.
        """
        from scipy.optimize import minimize_scalar

        if validation[0].shape[0] < MIN_CALIBRATION_ROWS:
            return 1.0

        X, y, sample_weight = _calibration_rows(validation)
        floor = self._scaling.floor
        # Without the floor: the part of each scale (and factor) the factor widens.
        log_weights, means, spreads, *tril_spreads = _network.predict_parameters(
            self.model_, self._spec, X, np.zeros_like(floor)
        )

        def negative_log_likelihood(log_factor):
            factor = np.exp(log_factor)
            widened = [factor * spreads + floor]
            if tril_spreads:
                widened.append(factor * tril_spreads[0] + floor * np.eye(len(floor)))
            log_density = _mixture(log_weights, means, *widened).log_prob(y)
            return -np.average(log_density, weights=sample_weight)

        # Where the slightest widening does not help, keep the scales exactly
        # as trained (the search itself would stop within its tolerance of
        # the bound); an under-trained warm-start epoch then costs two
        # evaluations, not a search.
        as_trained = negative_log_likelihood(0.0)
        if negative_log_likelihood(SCALE_FACTOR_TOLERANCE) >= as_trained:
            return 1.0
        best = minimize_scalar(
            negative_log_likelihood,
            bounds=(0.0, math.log(MAX_SCALE_FACTOR)),
            method="bounded",
            options={"xatol": SCALE_FACTOR_TOLERANCE},
        )
        return float(np.exp(best.x)) if best.fun < as_trained else 1.0

    # -- prediction ---------------------------------------------------------------

    def predict_dist(self, X):
        """Predicted distribution p(y | x) for each row of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        dist : GaussianMixtureDistribution
            Weights, means and scales of each row's mixture in the original
            units of y.
        """
        check_is_fitted(self)
        return self._distribution(validate_data(self, X, reset=False, dtype=np.float64))

    def _distribution(self, X, first_row=0):
        """``predict_dist`` of a validated float64 ``X``, whose first row is
        row ``first_row`` of the caller's (for error messages)."""
        from . import _network

        # Overflow to inf is caught below, by row, with a clear error.
        with np.errstate(over="ignore"):
            standardised = self._scaling.standardise_X(X)
        # Rows beyond the network's float range, or whose outputs overflow,
        # have no meaningful mixture (relu would even turn the overflow into
        # finite nonsense): refuse them rather than answer.
        self._check_evaluable(
            standardised,
            (np.abs(standardised) <= np.finfo(self._spec.dtype).max).all(axis=1),
            first_row,
        )
        log_weights, means, scales, *scale_tril = _network.predict_parameters(
            self.model_, self._spec, standardised,
            self._scaling.floor, self.scale_factor_,
        )
        # Standardised means and scales beyond MAX_STANDARDISED_OUTPUT (finite or
        # not) are the network extrapolating past float64's reach: the
        # densities of any y would underflow.
        evaluable = np.isfinite(log_weights).all(axis=1)
        for part in (means, scales, *scale_tril):
            evaluable &= (np.abs(part) <= MAX_STANDARDISED_OUTPUT).reshape(len(part), -1).all(axis=1)
        self._check_evaluable(standardised, evaluable, first_row)
        means, scales = self._scaling.to_original(means, scales)
        if scale_tril:
            return _mixture(
                log_weights, means[..., 0] if self._y_is_1d else means, None,
                self._scaling.tril_to_original(scale_tril[0]),
            )
        if self._y_is_1d:
            means, scales = means[..., 0], scales[..., 0]
        return _mixture(log_weights, means, scales)

    def _check_evaluable(self, standardised, evaluable, first_row):
        """ValueError naming the rows of X that are not ``evaluable``."""
        if not evaluable.all():
            rows = np.flatnonzero(~evaluable)
            distance = np.abs(standardised[rows]).max()
            raise ValueError(
                f"The network's output overflows for {rows.size} row(s) of X (the "
                f"first: row {first_row + rows[0]}), which lie up to {distance:.3g} standard "
                "deviations from the training data's mean: too far outside it for "
                f"{self._spec.dtype} arithmetic."
            )

    def _by_blocks(self, X, function, y=None):
        """``function(dist[, y])`` over blocks of rows of X, the results joined.

        A block's mixtures hold about ``PREDICT_BLOCK_VALUES`` numbers each, so
        a request of many rows needs memory for its result, not for every
        row's mixture at once. Each row's result does not depend on the
        blocks (the network itself always runs on fixed-size blocks).
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        per_row = self._spec.n_networks * self._spec.n_components * self.n_outputs_
        step = max(1, PREDICT_BLOCK_VALUES // per_row)
        blocks = [slice(start, start + step) for start in range(0, max(X.shape[0], 1), step)]
        results = [
            function(
                self._distribution(X[rows], rows.start), *(() if y is None else (y[rows],))
            )
            for rows in blocks
        ]
        if isinstance(results[0], tuple):
            return tuple(np.concatenate(parts) for parts in zip(*results))
        return np.concatenate(results)

    def predict(self, X, return_std=False):
        """Conditional mode: the most probable y for each row of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        return_std : bool, default=False
            Also return the standard deviation of p(y | x), as
            GaussianProcessRegressor does.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Shaped like the y given to ``fit``.
        y_std : ndarray, same shape as ``y_pred``
            Only with ``return_std=True``: per-output standard deviation of
            the predicted mixture (it includes the spread between branches).
        """
        if return_std:
            return self._by_blocks(X, lambda dist: (dist.mode(), dist.std()))
        return self._by_blocks(X, lambda dist: dist.mode())

    def predict_quantiles(self, X, quantiles=(0.05, 0.5, 0.95)):
        """Quantiles of p(y | x) (of each output's marginal) for each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        quantiles : float or array-like of shape (n_quantiles,), \
                default=(0.05, 0.5, 0.95)
            Levels in [0, 1].

        Returns
        -------
        quantiles : ndarray of shape (n_samples, n_quantiles), with a trailing
            n_outputs axis for multi-output y; (n_samples,) for a scalar level.
        """
        return self._by_blocks(X, lambda dist: dist.ppf(quantiles))

    def predict_interval(self, X, coverage=0.9):
        """Central prediction interval holding ``coverage`` of p(y | x).

        For a multimodal p(y | x) the central interval also spans the gaps
        between branches; ``predict_dist(X).hdr(coverage)`` gives the
        highest-density region, a union of intervals.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        coverage : float, default=0.9

        Returns
        -------
        intervals : ndarray of shape (n_samples, 2) or (n_samples, n_outputs, 2)
            Lower and upper ends.
        """
        return self._by_blocks(
            X, lambda dist: np.stack(dist.interval(coverage), axis=-1)
        )

    def sample(
        self, X, n_samples=1, random_state=None, temperature=1.0, sigma_temperature=1.0
    ):
        """Draw samples of y from p(y | x) for each row of X.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
        n_samples : int, default=1
            Draws per row.
        random_state : int, RandomState instance or None, default=None
        temperature : float, default=1.0
            Below 1 sharpens the mixing weights towards the most probable
            branch, above 1 flattens them (weights ** (1 / temperature)).
        sigma_temperature : float, default=1.0
            Multiplies every component variance.

        Returns
        -------
        samples : ndarray of shape (n_rows, n_samples) or \
                (n_rows, n_samples, n_outputs)
            The first for a model fitted on 1-D y.
        """
        # One generator for every block: a seed gives each block new draws.
        rng = check_random_state(random_state)
        return self._by_blocks(
            X,
            lambda dist: dist.sample(
                n_samples,
                random_state=rng,
                temperature=temperature,
                sigma_temperature=sigma_temperature,
            ),
        )

    def log_likelihood(self, X, y):
        """Log density of each y under p(y | x), in the original units of y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        log_likelihood : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        y = y.reshape(y.shape[0], -1)
        n_rows = _num_samples(X)
        if y.shape != (n_rows, self.n_outputs_):
            raise ValueError(
                f"y has shape {y.shape}, but X has {n_rows} rows and the "
                f"model predicts {self.n_outputs_} output(s)."
            )
        return self._by_blocks(
            X, lambda dist, y: dist.log_prob(y[:, 0] if self._y_is_1d else y), y
        )

    def score(self, X, y, sample_weight=None):
        """Mean log-likelihood of y under p(y | x) (higher is better).

        Unlike MLPRegressor's R^2, this scores the whole predicted
        distribution; it is what GridSearchCV maximises by default.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
            Weighted mean of ``log_likelihood``, in nats.
        """
        log_likelihood = self.log_likelihood(X, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, log_likelihood, ensure_non_negative=True
            )
            if not np.any(sample_weight > 0):
                raise ValueError("sample_weight must have at least one positive entry.")
            # The average does not depend on the weights' scale; their sum
            # must not overflow.
            sample_weight = sample_weight / sample_weight.max()
        return float(np.average(log_likelihood, weights=sample_weight))

    # -- saving -----------------------------------------------------------------------

    def save(self, path, overwrite=False):
        """Save the fitted model to one file, safely loadable with ``skmdn.load``.

        The file holds the parameters, the standardisation, the optimiser
        state and the network in Keras' own format; loading it runs no code.
        Pickle and joblib also work, but must never be used on files from
        untrusted sources: unpickling can run arbitrary code.

        Parameters
        ----------
        path : str or path-like
            Conventionally ending in ``.skmdn``.
        overwrite : bool, default=False
            Replace an existing file. Without it an existing file is never
            touched; with it the new file replaces the old one only once it
            is completely written.
        """
        from . import _fitted, _persistence

        check_is_fitted(self)
        _persistence.write_model(
            path,
            _fitted.json_params(self.get_params()),
            _fitted.fitted_state(self),
            self.model_,
            overwrite=overwrite,
        )

    # -- pickling -------------------------------------------------------------------

    def __getstate__(self):
        # The fitted state as _fitted defines it (as saved files hold it), and
        # the network's weights as arrays; parameters and anything else set on
        # the estimator as they are.
        state = dict(super().__getstate__())
        if "model_" in state:
            from . import _fitted, _network

            fitted = _fitted.fitted_state(self)
            for name in _fitted.ATTRIBUTES:
                state.pop(name, None)
            state["_fitted_state"] = fitted
            state["_model_weights"] = _network.model_to_arrays(self.model_)
        return state

    def __setstate__(self, state):
        from . import _fitted

        state = dict(state)
        if "_fitted_state" in state:
            fitted, weights = state.pop("_fitted_state"), state.pop("_model_weights")
        elif "model_" in state:
            # A pickle from before _fitted existed: the attributes themselves,
            # the network's weights as arrays in model_.
            weights = state.pop("model_")
            fitted = _fitted.legacy_fitted_state(state)
        else:
            fitted = None
        if fitted is None:
            # Parameters added since: an unfitted estimator gets the settings
            # that older models are upgraded to.
            super().__setstate__(_fitted.older_parameters() | state)
            return
        params = {name: state[name] for name in self._get_param_names() if name in state}
        params, fitted = _fitted.upgrade(params, fitted)
        super().__setstate__(state | params)
        from . import _network

        fitted, network_spec = _fitted.checked(fitted, "pickle")
        _fitted.restore(self, fitted, _network.model_from_arrays(network_spec, weights))


def load(path):
    """Load an MDNRegressor written by ``MDNRegressor.save``.

    Safe for files from others: nothing in the file is executed (no pickle;
    only the weights are read from the Keras part, into a network built from
    the saved spec). Every part is checked before it is used: the known
    fields only, with their types, and array shapes and dtypes that agree
    with the saved network; parts larger than that network needs are
    refused before they are read. Files from older versions of the format
    are upgraded; files from a newer skmdn are refused.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    model : MDNRegressor
        Predicts exactly what the saved model predicted.

    Raises
    ------
    skmdn.exceptions.ModelFileError
        A ``ValueError`` naming the file and what is wrong with it: not a
        saved model, damaged, malformed, or from a newer skmdn.
    FileNotFoundError
        No file at ``path``.

    Examples
    --------
    >>> import os, tempfile
    >>> import skmdn
    >>> from skmdn.datasets import make_inverse_sine
    >>> X, y = make_inverse_sine(200, random_state=0)
    >>> model = skmdn.MDNRegressor(max_iter=5, random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.skmdn")
    >>> model.save(path)
    >>> bool((skmdn.load(path).predict(X) == model.predict(X)).all())
    True
    """
    from sklearn.utils._param_validation import InvalidParameterError

    from . import _fitted, _persistence
    from .exceptions import ModelFileError

    params, state, model = _persistence.read_model(path)
    names = set(MDNRegressor._get_param_names())
    if set(params) != names:
        raise ModelFileError(
            f"{os.fspath(path)}: unexpected parameters {sorted(set(params) - names)}, "
            f"missing {sorted(names - set(params))}."
        )
    if isinstance(params["hidden_layer_sizes"], list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    estimator = MDNRegressor(**params)
    try:
        estimator._validate_params()
    except InvalidParameterError as error:
        raise ModelFileError(f"{os.fspath(path)}: {error}") from error
    _fitted.restore(estimator, state, model)
    return estimator
