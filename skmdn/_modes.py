"""The mode search: every local maximum of each row's Gaussian mixture.

Compiled with numba. A climb is a short run of steps whose number depends on
where it starts; vectorised over climbs, numpy spent most of its time packing
and unpacking the climbs still going rather than computing. Compiled, each
row's climbs run one after another, and blocks of rows run in parallel threads
(the kernels release the GIL).

Two kernels run the same climbs: one output (most mixtures) in scalars,
which numba compiles in about 2 s on a 2-core machine, and any number of
outputs with vectors and matrices, about 5 s. numba's compiler spends its
time per function (the same climbs as a dozen helper functions took 16 s),
so each kernel is one function with its loops written out. Each is compiled
on its first use and cached on disk beside this file, or in the user's cache
directory where that is not writable; later processes load one in about
0.3 s.
"""

import math

import numba
import numpy as np

# A climb stops when a Newton step is below this fraction of the width of the
# peak (1 / sqrt(-d2 log p) in its narrowest direction); Newton steps get
# there in a handful of iterations.
_MODE_TOLERANCE = 1e-10
_MODE_MAX_ITER = 500
# Climbs of one row that end within this fraction of a peak's width of each
# other found the same peak (two peaks are separated by a dip, which is not
# within a ten-thousandth of their width).
_MERGE_RADIUS = 1e-4
# No step is longer than this many local scales of the mixture,
# 1 / sqrt(sum_k r_k P_k): a longer one (a fixed-point step pulled by a narrow
# component, a Newton step where log p is nearly flat) can pass over a shallow
# peak, and the climb would miss it.
_STEP_LIMIT = 0.5
# Relative rounding error allowed for, in epsilons.
_ROUNDING = 16.0 * float(np.finfo(np.float64).eps)
# At a point, components whose term is below exp(-50) of the largest are left
# out of the sums: even a thousand of them change the density by less than
# 1e-18 of itself, below float64's resolution.
_NEGLIGIBLE = 50.0
# Jacobi rotations stop when the off-diagonal part is below float64's
# resolution of the diagonal; they converge quadratically, in a few sweeps.
_JACOBI_SWEEPS = 50
_JACOBI_TOLERANCE = float(np.finfo(np.float64).eps) ** 2


def n_starts(n_components, n_outputs):
    """How many climbs each row runs (see ``local_maxima``)."""
    if n_outputs == 1:
        return n_components
    return n_components + n_components * (n_components - 1) // 2


def local_maxima(log_normalisers, means, scales, points, log_density, precisions=None):
    """Every local maximum of each row's mixture, written into ``points`` and ``log_density``.

    Climbs start from every component mean and, with several outputs, from the
    peak of every pair of components' product, (P_i mu_i + P_j mu_j) /
    (P_i + P_j) with P the precisions: elongated components can overlap into a
    peak that no climb from a mean reaches (two crossing ridges). Each climb
    takes a Newton step on log p where it is concave, and otherwise goes the
    way of the fixed-point step of Carreira-Perpinan (2000), sum_k r_k P_k mu_k
    / sum_k r_k P_k less the point, at full length; every step is cut to
    ``_STEP_LIMIT`` local scales. A step that lowered the density is undone
    and tried again at half the length, down to the (cut) fixed-point step,
    which never lowers it: it maximises a concave lower bound on log p that
    touches it at the point. So every climb is monotone. A climb ends when a
    Newton step is below ``_MODE_TOLERANCE`` of the peak's width (or the
    rounding of y), or, where log p is not concave, when the gradient is lost
    in rounding: a minimum or saddle, where the gradient vanishes, not a
    maximum.

    The climbs run in each row's own units (centred on the mean of its
    component means, in units of its smallest scale), so no precision
    overflows; (mu - y) / sigma is the same in any units, so the log densities
    are those of y.

    Parameters
    ----------
    log_normalisers : ndarray of shape (n, K)
        log(w_k) - sum(log sigma_k) - d/2 log(2 pi).
    means, scales : ndarray of shape (n, K, d)
    points : ndarray of shape (n, S, d)
        Filled with where each climb ended (S from ``n_starts``).
    log_density : ndarray of shape (n, S)
        Filled with the log density there; -inf where the climb ended on no
        maximum, or on a peak that a climb of its row with higher density (or
        equal density and a lower index) also found, within ``_MERGE_RADIUS``
        of the peak's width.
    precisions : ndarray of shape (n, K, d, d), default=None
        For components with full covariance matrices (d > 1), their inverses;
        ``scales`` are then the marginal standard deviations, which set the
        row's units only. Pair starts are the peaks of the pairs' products,
        (P_i + P_j)^-1 (P_i mu_i + P_j mu_j).
    """
    if precisions is not None:
        _full_maxima(log_normalisers, means, scales, precisions, points, log_density)
    elif means.shape[2] == 1:
        _univariate_maxima(log_normalisers, means, scales, points, log_density)
    else:
        _maxima(log_normalisers, means, scales, points, log_density)


@numba.njit(cache=True, nogil=True)
def _univariate_maxima(log_normalisers, means, scales, points, log_density):
    """``local_maxima`` for one output: ``_maxima``'s climbs, in scalars.

    The same steps, stops and merging as ``_maxima``, for d = 1 with no
    arrays per climb: 1.3x faster than ``_maxima`` on one output. The tests
    hold the two kernels to the same peaks. The loop that drops repeated
    peaks is written out in both kernels on purpose: as a shared compiled
    helper it added about 0.4 s to this kernel's first compile (2-core
    machine, 2026-12-03) for the same results.
    """
    n_rows, n_components, _ = means.shape
    row_means = np.empty(n_components)
    precision = np.empty(n_components)
    log_terms = np.empty(n_components)
    widths = np.empty(n_components)
    # The peaks this row's climbs have found so far, and their widths.
    peaks = np.empty(n_components)
    peak_widths = np.empty(n_components)
    repeats = np.empty(n_components, dtype=np.bool_)
    for row in range(n_rows):
        unit = np.min(scales[row])
        centre = np.mean(means[row, :, 0])
        for k in range(n_components):
            row_means[k] = (means[row, k, 0] - centre) / unit
            precision[k] = (unit / scales[row, k, 0]) ** 2
        row_log_normalisers = log_normalisers[row]
        row_density = log_density[row]
        n_peaks = 0
        for start in range(n_components):
            accepted = row_means[start]
            tried = safe_step = 0.0
            climb_density = -np.inf
            width = 1.0
            not_maximum = converged = on_found_peak = False
            for _ in range(_MODE_MAX_ITER):
                current = accepted + tried
                # log p, its gradient and second derivative, and
                # the bounds on their rounding.
                largest = -np.inf
                for k in range(n_components):
                    difference = current - row_means[k]
                    log_terms[k] = (
                        row_log_normalisers[k] - 0.5 * precision[k] * difference * difference
                    )
                    largest = max(largest, log_terms[k])
                # Where the density underflows to 0, log p is -inf.
                log_p = -np.inf
                log_p_noise = gradient = weighted_precision = gradient_noise = second = 0.0
                if largest > -np.inf:
                    total = size = pulled = weighted = pull_size = outer = 0.0
                    for k in range(n_components):
                        relative = log_terms[k] - largest
                        if relative < -_NEGLIGIBLE:
                            continue
                        term = math.exp(relative)
                        pull = precision[k] * (row_means[k] - current)
                        total += term
                        size += term * (
                            abs(row_log_normalisers[k]) + row_log_normalisers[k] - log_terms[k]
                        )
                        pulled += term * pull
                        weighted += term * precision[k]
                        pull_size += term * abs(pull)
                        outer += term * pull * pull
                    gradient = pulled / total
                    weighted_precision = weighted / total
                    magnitude = pull_size / total + abs(current) * weighted_precision
                    second = outer / total - gradient * gradient - weighted_precision
                    log_p = largest + math.log(total)
                    log_p_noise = _ROUNDING * (1.0 + size / total)
                    gradient_noise = (_ROUNDING + log_p_noise) * magnitude
                if log_p < climb_density - log_p_noise:
                    # Undone; tried again at half the length, down to the fixed-point step.
                    tried = safe_step if 0.5 * abs(tried) <= abs(safe_step) else 0.5 * tried
                    continue
                if log_p == -np.inf:
                    # A start where the density underflows to 0: no gradient to follow.
                    break
                climb_density = log_p
                not_maximum = second > 0.0
                accepted = current
                # Steps cut as _maxima cuts them, so that both kernels round alike.
                step_limit = _STEP_LIMIT * (1.0 / math.sqrt(weighted_precision))
                fixed_point = gradient / weighted_precision
                safe_step = 0.0
                if fixed_point != 0.0:
                    safe_step = fixed_point * min(1.0, step_limit / abs(fixed_point))
                if second < 0.0:
                    width = 1.0 / math.sqrt(-second)
                    newton = -gradient / second
                    tried = 0.0
                    if newton != 0.0:
                        tried = newton * min(1.0, step_limit / abs(newton))
                    limit = (
                        _MODE_TOLERANCE * width - gradient_noise / second + _ROUNDING * abs(current)
                    )
                    if abs(tried) <= limit:
                        converged = True
                        break
                    for peak in range(n_peaks):
                        if abs(current + tried - peaks[peak]) <= _MERGE_RADIUS * peak_widths[peak]:
                            on_found_peak = True
                    if on_found_peak:
                        break
                else:
                    # Where log p is not concave, the fixed-point step's way at full length.
                    width = 1.0
                    tried = 0.0
                    if fixed_point != 0.0:
                        tried = fixed_point * (step_limit / abs(fixed_point))
                    if abs(gradient) <= gradient_noise:
                        break
            point = accepted + (tried if converged else 0.0)
            points[row, start, 0] = point
            widths[start] = width
            row_density[start] = -np.inf if not_maximum or on_found_peak else climb_density
            if row_density[start] > -np.inf:
                peaks[n_peaks] = point
                peak_widths[n_peaks] = width
                n_peaks += 1
        # Repeats dropped: a climb ranks above another with a higher density, or
        # an equal one and a lower index.
        for climb in range(n_components):
            repeats[climb] = False
            if row_density[climb] == -np.inf:
                continue
            for higher in range(n_components):
                above = row_density[higher] > row_density[climb] or (
                    row_density[higher] == row_density[climb] and higher < climb
                )
                distance = abs(points[row, climb, 0] - points[row, higher, 0])
                if above and distance <= _MERGE_RADIUS * widths[climb]:
                    repeats[climb] = True
                    break
        for climb in range(n_components):
            if repeats[climb]:
                row_density[climb] = -np.inf
            points[row, climb, 0] = centre + unit * points[row, climb, 0]


@numba.njit(cache=True, nogil=True)
def _maxima(log_normalisers, means, scales, points, log_density):
    """``local_maxima`` for any number of outputs (used for several).

    One function with its loops written out, as ``_univariate_maxima``: numba
    compiles it in about 5 s, where the same climbs as a dozen helper
    functions took 16 s. The Hessian's extreme eigenvalues come from cyclic
    Jacobi rotations (Golub and Van Loan, 2013, section 8.5) and the Newton
    step from a Cholesky factor, in plain loops: for the few outputs of a
    mixture four to five times faster than the helper functions calling
    LAPACK were (two outputs), and nothing of LAPACK's to compile.
    """
    n_rows, n_components, n_outputs = means.shape
    total_starts = points.shape[1]
    row_means = np.empty((n_components, n_outputs))
    precision = np.empty((n_components, n_outputs))
    centre = np.empty(n_outputs)
    widths = np.empty(total_starts)
    peaks = np.empty((total_starts, n_outputs))
    peak_widths = np.empty(total_starts)
    log_terms = np.empty(n_components)
    repeats = np.empty(total_starts, dtype=np.bool_)
    accepted = np.empty(n_outputs)
    tried = np.empty(n_outputs)
    safe_step = np.empty(n_outputs)
    current = np.empty(n_outputs)
    gradient = np.empty(n_outputs)
    weighted_precision = np.empty(n_outputs)
    magnitude = np.empty(n_outputs)
    newton = np.empty(n_outputs)
    scratch = np.empty(n_outputs)
    hessian = np.empty((n_outputs, n_outputs))
    work = np.empty((n_outputs, n_outputs))
    for row in range(n_rows):
        unit = np.min(scales[row])
        for i in range(n_outputs):
            centre[i] = np.mean(means[row, :, i])
            for k in range(n_components):
                row_means[k, i] = (means[row, k, i] - centre[i]) / unit
                precision[k, i] = (unit / scales[row, k, i]) ** 2
        row_points = points[row]
        row_log_normalisers = log_normalisers[row]
        row_density = log_density[row]
        # Starting points: the means, then the pair points.
        for k in range(n_components):
            for i in range(n_outputs):
                row_points[k, i] = row_means[k, i]
        start = n_components
        if total_starts > n_components:
            for first in range(n_components):
                for second in range(first + 1, n_components):
                    for i in range(n_outputs):
                        row_points[start, i] = (
                            precision[first, i] * row_means[first, i]
                            + precision[second, i] * row_means[second, i]
                        ) / (precision[first, i] + precision[second, i])
                    start += 1
        n_peaks = 0
        for start in range(total_starts):
            for i in range(n_outputs):
                accepted[i] = row_points[start, i]
                tried[i] = 0.0
                safe_step[i] = 0.0
            climb_density = -np.inf
            width = 1.0
            not_maximum = converged = on_found_peak = False
            for _ in range(_MODE_MAX_ITER):
                for i in range(n_outputs):
                    current[i] = accepted[i] + tried[i]
                # log p, its gradient, its Hessian sum_k r_k g_k g_k^T - g g^T
                # - diag(sum_k r_k P_k) (g_k = P_k (mu_k - y), r_k the
                # responsibilities), and bounds on the rounding of log p
                # (terms' logs are rounded in proportion to |log w_k N_k|
                # and their quadratic) and of the gradient (in proportion to
                # "magnitude", sum_k r_k P_k (|mu_k - y| + |y|)).
                largest = -np.inf
                for k in range(n_components):
                    quadratic = 0.0
                    for i in range(n_outputs):
                        difference = current[i] - row_means[k, i]
                        quadratic += precision[k, i] * difference * difference
                    log_terms[k] = row_log_normalisers[k] - 0.5 * quadratic
                    largest = max(largest, log_terms[k])
                log_p = -np.inf
                log_p_noise = 0.0
                gradient_noise = 0.0
                if largest > -np.inf:
                    total = 0.0
                    size = 0.0
                    for i in range(n_outputs):
                        gradient[i] = weighted_precision[i] = magnitude[i] = 0.0
                        for j in range(n_outputs):
                            hessian[i, j] = 0.0
                    for k in range(n_components):
                        relative = log_terms[k] - largest
                        if relative < -_NEGLIGIBLE:
                            continue
                        term = math.exp(relative)
                        total += term
                        size += term * (abs(row_log_normalisers[k]) + row_log_normalisers[k] - log_terms[k])
                        for i in range(n_outputs):
                            pull = precision[k, i] * (row_means[k, i] - current[i])
                            gradient[i] += term * pull
                            weighted_precision[i] += term * precision[k, i]
                            magnitude[i] += term * abs(pull)
                            for j in range(i + 1):
                                hessian[i, j] += term * pull * precision[k, j] * (row_means[k, j] - current[j])
                    largest_magnitude = 0.0
                    for i in range(n_outputs):
                        gradient[i] /= total
                        weighted_precision[i] /= total
                        magnitude[i] = magnitude[i] / total + abs(current[i]) * weighted_precision[i]
                        largest_magnitude = max(largest_magnitude, abs(magnitude[i]))
                    for i in range(n_outputs):
                        for j in range(i + 1):
                            hessian[i, j] = hessian[i, j] / total - gradient[i] * gradient[j]
                            hessian[j, i] = hessian[i, j]
                        hessian[i, i] -= weighted_precision[i]
                    log_p_noise = _ROUNDING * (1.0 + size / total)
                    log_p = largest + math.log(total)
                    gradient_noise = (_ROUNDING + log_p_noise) * largest_magnitude
                if log_p < climb_density - log_p_noise:
                    # Undone; tried again at half the length, down to the
                    # fixed-point step, which never lowers the density.
                    tried_length = 0.0
                    safe_length = 0.0
                    for i in range(n_outputs):
                        tried_length = max(tried_length, abs(tried[i]))
                        safe_length = max(safe_length, abs(safe_step[i]))
                    shorter = 0.5 * tried_length <= safe_length
                    for i in range(n_outputs):
                        tried[i] = safe_step[i] if shorter else 0.5 * tried[i]
                    continue
                if log_p == -np.inf:
                    # A start where the density underflows to 0 (the mean of
                    # a component of weight 0, far from the others) has no
                    # gradient to follow; the other starts find the maxima.
                    break
                # The Hessian's extreme eigenvalues (cyclic Jacobi) and, where
                # it is negative definite, the Newton step (Cholesky of -H).
                if n_outputs == 1:
                    lowest = highest = hessian[0, 0]
                else:
                    for i in range(n_outputs):
                        for j in range(n_outputs):
                            work[i, j] = hessian[i, j]
                    for _sweep in range(_JACOBI_SWEEPS):
                        off = 0.0
                        diagonal = 0.0
                        for i in range(n_outputs):
                            diagonal += work[i, i] * work[i, i]
                            for j in range(i):
                                off += work[i, j] * work[i, j]
                        if off <= _JACOBI_TOLERANCE * diagonal:
                            break
                        for p in range(n_outputs):
                            for q in range(p + 1, n_outputs):
                                if work[p, q] == 0.0:
                                    continue
                                theta = (work[q, q] - work[p, p]) / (2.0 * work[p, q])
                                t = 1.0 / (abs(theta) + math.sqrt(theta * theta + 1.0))
                                if theta < 0.0:
                                    t = -t
                                c = 1.0 / math.sqrt(t * t + 1.0)
                                s = t * c
                                for k in range(n_outputs):
                                    kp = work[k, p]
                                    kq = work[k, q]
                                    work[k, p] = c * kp - s * kq
                                    work[k, q] = s * kp + c * kq
                                for k in range(n_outputs):
                                    pk = work[p, k]
                                    qk = work[q, k]
                                    work[p, k] = c * pk - s * qk
                                    work[q, k] = s * pk + c * qk
                    lowest = highest = work[0, 0]
                    for i in range(1, n_outputs):
                        lowest = min(lowest, work[i, i])
                        highest = max(highest, work[i, i])
                concave = highest < 0.0
                if concave:
                    if n_outputs == 1:
                        newton[0] = -gradient[0] / hessian[0, 0]
                    else:
                        for i in range(n_outputs):
                            for j in range(i + 1):
                                total = -hessian[i, j]
                                for k in range(j):
                                    total -= work[i, k] * work[j, k]
                                if i == j:
                                    # Negative definite to the rotations'
                                    # rounding but not to Cholesky's: no
                                    # Newton step here.
                                    if total <= 0.0:
                                        concave = False
                                        break
                                    work[i, i] = math.sqrt(total)
                                else:
                                    work[i, j] = total / work[j, j]
                            if not concave:
                                break
                        if concave:
                            for i in range(n_outputs):
                                total = gradient[i]
                                for k in range(i):
                                    total -= work[i, k] * newton[k]
                                newton[i] = total / work[i, i]
                            for i in range(n_outputs - 1, -1, -1):
                                total = newton[i]
                                for k in range(i + 1, n_outputs):
                                    total -= work[k, i] * newton[k]
                                newton[i] = total / work[i, i]
                sharpest = -lowest
                flattest = -highest
                climb_density = log_p
                not_maximum = highest > 0.0
                sharpest_precision = 0.0
                for i in range(n_outputs):
                    accepted[i] = current[i]
                    sharpest_precision = max(sharpest_precision, weighted_precision[i])
                    scratch[i] = gradient[i] / weighted_precision[i]
                # The fixed point sum r_k P_k mu_k / sum r_k P_k less the
                # point, cut to _STEP_LIMIT local scales: the safe step.
                step_limit = _STEP_LIMIT * (1.0 / math.sqrt(sharpest_precision))
                length = 0.0
                for i in range(n_outputs):
                    length = max(length, abs(scratch[i]))
                factor = min(1.0, step_limit / length) if length > 0.0 else 0.0
                for i in range(n_outputs):
                    safe_step[i] = scratch[i] * factor
                if concave:
                    width = 1.0 / math.sqrt(sharpest)
                    length = 0.0
                    for i in range(n_outputs):
                        length = max(length, abs(newton[i]))
                    factor = min(1.0, step_limit / length) if length > 0.0 else 0.0
                    tried_length = 0.0
                    current_size = 0.0
                    for i in range(n_outputs):
                        tried[i] = newton[i] * factor
                        tried_length = max(tried_length, abs(tried[i]))
                        current_size = max(current_size, abs(current[i]))
                    # Stop below the tolerance, or the rounding of the
                    # gradient and of y.
                    limit = (
                        _MODE_TOLERANCE * width + gradient_noise / flattest
                        + _ROUNDING * current_size
                    )
                    if tried_length <= limit:
                        converged = True
                        break
                    # From within _MERGE_RADIUS of a peak a climb of this row
                    # found, Newton steps converge on that peak: stop.
                    for peak in range(n_peaks):
                        distance = 0.0
                        for i in range(n_outputs):
                            distance = max(distance, abs(current[i] + tried[i] - peaks[peak, i]))
                        if distance <= _MERGE_RADIUS * peak_widths[peak]:
                            on_found_peak = True
                            break
                    if on_found_peak:
                        break
                else:
                    # Where log p is not concave, the fixed-point step's way
                    # at full length (a start near a minimum would otherwise
                    # crawl out over hundreds of steps), until the gradient
                    # is lost in rounding: a minimum or saddle.
                    width = 1.0
                    factor = step_limit / length if length > 0.0 else 0.0
                    gradient_size = 0.0
                    for i in range(n_outputs):
                        tried[i] = scratch[i] * factor
                        gradient_size = max(gradient_size, abs(gradient[i]))
                    if gradient_size <= gradient_noise:
                        break
            if not on_found_peak:
                for i in range(n_outputs):
                    row_points[start, i] = accepted[i] + (tried[i] if converged else 0.0)
            widths[start] = width
            row_density[start] = -np.inf if not_maximum or on_found_peak else climb_density
            if row_density[start] > -np.inf:
                for i in range(n_outputs):
                    peaks[n_peaks, i] = row_points[start, i]
                peak_widths[n_peaks] = width
                n_peaks += 1
        # A climb that repeats the peak of a climb ranked above it (higher
        # density, or equal and a lower index) is dropped.
        for climb in range(total_starts):
            repeats[climb] = False
            if row_density[climb] == -np.inf:
                continue
            for higher in range(total_starts):
                above = row_density[higher] > row_density[climb] or (
                    row_density[higher] == row_density[climb] and higher < climb
                )
                if not above:
                    continue
                distance = 0.0
                for i in range(n_outputs):
                    distance = max(distance, abs(row_points[climb, i] - row_points[higher, i]))
                if distance <= _MERGE_RADIUS * widths[climb]:
                    repeats[climb] = True
                    break
        for climb in range(total_starts):
            if repeats[climb]:
                row_density[climb] = -np.inf
            for i in range(n_outputs):
                row_points[climb, i] = centre[i] + unit * row_points[climb, i]


@numba.njit(cache=True, nogil=True)
def _full_maxima(log_normalisers, means, scales, precisions, points, log_density):
    """``local_maxima`` with full covariance: ``_maxima`` with matrix precisions.

    The fixed-point step solves (sum_k r_k P_k) s = g, and a step's length
    is cut by the largest eigenvalue of sum_k r_k P_k. The small solves and
    eigenvalues are compiled helpers (Cholesky, cyclic Jacobi) rather than
    LAPACK calls, which cost 20 times the diagonal kernel's time per row
    (2026-12-03); unlike ``_maxima``, whose first compile they would slow,
    this kernel is compiled only for full-covariance mixtures.
    """
    n_rows, n_components, n_outputs = means.shape
    total_starts = points.shape[1]
    row_means = np.empty((n_components, n_outputs))
    precision = np.empty((n_components, n_outputs, n_outputs))
    centre = np.empty(n_outputs)
    widths = np.empty(total_starts)
    peaks = np.empty((total_starts, n_outputs))
    peak_widths = np.empty(total_starts)
    log_terms = np.empty(n_components)
    repeats = np.empty(total_starts, dtype=np.bool_)
    accepted = np.empty(n_outputs)
    tried = np.empty(n_outputs)
    safe_step = np.empty(n_outputs)
    current = np.empty(n_outputs)
    gradient = np.empty(n_outputs)
    difference = np.empty(n_outputs)
    pull = np.empty(n_outputs)
    magnitude = np.empty(n_outputs)
    newton = np.zeros(n_outputs)
    scratch = np.empty(n_outputs)
    hessian = np.empty((n_outputs, n_outputs))
    weighted_precision = np.empty((n_outputs, n_outputs))
    negative = np.empty((n_outputs, n_outputs))
    combined = np.empty((n_outputs, n_outputs))
    target = np.empty(n_outputs)
    work = np.empty((n_outputs, n_outputs))
    for row in range(n_rows):
        unit = np.min(scales[row])
        for i in range(n_outputs):
            centre[i] = np.mean(means[row, :, i])
        for k in range(n_components):
            for i in range(n_outputs):
                row_means[k, i] = (means[row, k, i] - centre[i]) / unit
                for j in range(n_outputs):
                    precision[k, i, j] = precisions[row, k, i, j] * unit * unit
        row_points = points[row]
        row_log_normalisers = log_normalisers[row]
        row_density = log_density[row]
        for k in range(n_components):
            for i in range(n_outputs):
                row_points[k, i] = row_means[k, i]
        start = n_components
        if total_starts > n_components:
            for first in range(n_components):
                for second in range(first + 1, n_components):
                    for i in range(n_outputs):
                        target[i] = 0.0
                        for j in range(n_outputs):
                            combined[i, j] = precision[first, i, j] + precision[second, i, j]
                            target[i] += (
                                precision[first, i, j] * row_means[first, j]
                                + precision[second, i, j] * row_means[second, j]
                            )
                    _cholesky_solve(combined, target, work, row_points[start])
                    start += 1
        n_peaks = 0
        for start in range(total_starts):
            for i in range(n_outputs):
                accepted[i] = row_points[start, i]
                tried[i] = 0.0
                safe_step[i] = 0.0
            climb_density = -np.inf
            width = 1.0
            not_maximum = converged = on_found_peak = False
            for _ in range(_MODE_MAX_ITER):
                for i in range(n_outputs):
                    current[i] = accepted[i] + tried[i]
                largest = -np.inf
                for k in range(n_components):
                    quadratic = 0.0
                    for i in range(n_outputs):
                        difference[i] = current[i] - row_means[k, i]
                    for i in range(n_outputs):
                        for j in range(n_outputs):
                            quadratic += difference[i] * precision[k, i, j] * difference[j]
                    log_terms[k] = row_log_normalisers[k] - 0.5 * quadratic
                    largest = max(largest, log_terms[k])
                log_p = -np.inf
                log_p_noise = 0.0
                gradient_noise = 0.0
                if largest > -np.inf:
                    total = 0.0
                    size = 0.0
                    for i in range(n_outputs):
                        gradient[i] = magnitude[i] = 0.0
                        for j in range(n_outputs):
                            hessian[i, j] = 0.0
                            weighted_precision[i, j] = 0.0
                    for k in range(n_components):
                        relative = log_terms[k] - largest
                        if relative < -_NEGLIGIBLE:
                            continue
                        term = math.exp(relative)
                        total += term
                        size += term * (abs(row_log_normalisers[k]) + row_log_normalisers[k] - log_terms[k])
                        for i in range(n_outputs):
                            pull[i] = 0.0
                            for j in range(n_outputs):
                                pull[i] += precision[k, i, j] * (row_means[k, j] - current[j])
                        for i in range(n_outputs):
                            gradient[i] += term * pull[i]
                            magnitude[i] += term * abs(pull[i])
                            for j in range(n_outputs):
                                weighted_precision[i, j] += term * precision[k, i, j]
                                hessian[i, j] += term * pull[i] * pull[j]
                    largest_magnitude = 0.0
                    for i in range(n_outputs):
                        gradient[i] /= total
                    for i in range(n_outputs):
                        row_sum = 0.0
                        for j in range(n_outputs):
                            weighted_precision[i, j] /= total
                            row_sum += abs(weighted_precision[i, j])
                        magnitude[i] = magnitude[i] / total + abs(current[i]) * row_sum
                        largest_magnitude = max(largest_magnitude, abs(magnitude[i]))
                    for i in range(n_outputs):
                        for j in range(n_outputs):
                            hessian[i, j] = (
                                hessian[i, j] / total - gradient[i] * gradient[j]
                                - weighted_precision[i, j]
                            )
                    log_p_noise = _ROUNDING * (1.0 + size / total)
                    log_p = largest + math.log(total)
                    gradient_noise = (_ROUNDING + log_p_noise) * largest_magnitude
                if log_p < climb_density - log_p_noise:
                    tried_length = 0.0
                    safe_length = 0.0
                    for i in range(n_outputs):
                        tried_length = max(tried_length, abs(tried[i]))
                        safe_length = max(safe_length, abs(safe_step[i]))
                    shorter = 0.5 * tried_length <= safe_length
                    for i in range(n_outputs):
                        tried[i] = safe_step[i] if shorter else 0.5 * tried[i]
                    continue
                if log_p == -np.inf:
                    break
                lowest, highest = _symmetric_extremes(hessian, work)
                concave = highest < 0.0
                if concave:
                    for i in range(n_outputs):
                        for j in range(n_outputs):
                            negative[i, j] = -hessian[i, j]
                    # Negative definite to the rotations' rounding but not
                    # to Cholesky's: no Newton step here.
                    concave = _cholesky_solve(negative, gradient, work, newton)
                sharpest = -lowest
                flattest = -highest
                climb_density = log_p
                not_maximum = highest > 0.0
                for i in range(n_outputs):
                    accepted[i] = current[i]
                sharpest_precision = _symmetric_extremes(weighted_precision, work)[1]
                if not _cholesky_solve(weighted_precision, gradient, work, scratch):
                    # Singular to rounding: a gradient step of the same bound.
                    for i in range(n_outputs):
                        scratch[i] = gradient[i] / sharpest_precision
                step_limit = _STEP_LIMIT * (1.0 / math.sqrt(sharpest_precision))
                length = 0.0
                for i in range(n_outputs):
                    length = max(length, abs(scratch[i]))
                factor = min(1.0, step_limit / length) if length > 0.0 else 0.0
                for i in range(n_outputs):
                    safe_step[i] = scratch[i] * factor
                if concave:
                    width = 1.0 / math.sqrt(sharpest)
                    length = 0.0
                    for i in range(n_outputs):
                        length = max(length, abs(newton[i]))
                    factor = min(1.0, step_limit / length) if length > 0.0 else 0.0
                    tried_length = 0.0
                    current_size = 0.0
                    for i in range(n_outputs):
                        tried[i] = newton[i] * factor
                        tried_length = max(tried_length, abs(tried[i]))
                        current_size = max(current_size, abs(current[i]))
                    limit = (
                        _MODE_TOLERANCE * width + gradient_noise / flattest
                        + _ROUNDING * current_size
                    )
                    if tried_length <= limit:
                        converged = True
                        break
                    for peak in range(n_peaks):
                        distance = 0.0
                        for i in range(n_outputs):
                            distance = max(distance, abs(current[i] + tried[i] - peaks[peak, i]))
                        if distance <= _MERGE_RADIUS * peak_widths[peak]:
                            on_found_peak = True
                            break
                    if on_found_peak:
                        break
                else:
                    width = 1.0
                    factor = step_limit / length if length > 0.0 else 0.0
                    gradient_size = 0.0
                    for i in range(n_outputs):
                        tried[i] = scratch[i] * factor
                        gradient_size = max(gradient_size, abs(gradient[i]))
                    if gradient_size <= gradient_noise:
                        break
            if not on_found_peak:
                for i in range(n_outputs):
                    row_points[start, i] = accepted[i] + (tried[i] if converged else 0.0)
            widths[start] = width
            row_density[start] = -np.inf if not_maximum or on_found_peak else climb_density
            if row_density[start] > -np.inf:
                for i in range(n_outputs):
                    peaks[n_peaks, i] = row_points[start, i]
                peak_widths[n_peaks] = width
                n_peaks += 1
        for climb in range(total_starts):
            repeats[climb] = False
            if row_density[climb] == -np.inf:
                continue
            for higher in range(total_starts):
                above = row_density[higher] > row_density[climb] or (
                    row_density[higher] == row_density[climb] and higher < climb
                )
                if not above:
                    continue
                distance = 0.0
                for i in range(n_outputs):
                    distance = max(distance, abs(row_points[climb, i] - row_points[higher, i]))
                if distance <= _MERGE_RADIUS * widths[climb]:
                    repeats[climb] = True
                    break
        for climb in range(total_starts):
            if repeats[climb]:
                row_density[climb] = -np.inf
            for i in range(n_outputs):
                row_points[climb, i] = centre[i] + unit * row_points[climb, i]


@numba.njit(cache=True, nogil=True)
def _symmetric_extremes(matrix, work):
    """The smallest and largest eigenvalues of a symmetric matrix, by cyclic
    Jacobi rotations in ``work`` (Golub and Van Loan, 2013, section 8.5)."""
    n = matrix.shape[0]
    for i in range(n):
        for j in range(n):
            work[i, j] = matrix[i, j]
    for _sweep in range(_JACOBI_SWEEPS):
        off = 0.0
        diagonal = 0.0
        for i in range(n):
            diagonal += work[i, i] * work[i, i]
            for j in range(i):
                off += work[i, j] * work[i, j]
        if off <= _JACOBI_TOLERANCE * diagonal:
            break
        for p in range(n):
            for q in range(p + 1, n):
                if work[p, q] == 0.0:
                    continue
                theta = (work[q, q] - work[p, p]) / (2.0 * work[p, q])
                t = 1.0 / (abs(theta) + math.sqrt(theta * theta + 1.0))
                if theta < 0.0:
                    t = -t
                c = 1.0 / math.sqrt(t * t + 1.0)
                s = t * c
                for k in range(n):
                    kp = work[k, p]
                    kq = work[k, q]
                    work[k, p] = c * kp - s * kq
                    work[k, q] = s * kp + c * kq
                for k in range(n):
                    pk = work[p, k]
                    qk = work[q, k]
                    work[p, k] = c * pk - s * qk
                    work[q, k] = s * pk + c * qk
    lowest = highest = work[0, 0]
    for i in range(1, n):
        lowest = min(lowest, work[i, i])
        highest = max(highest, work[i, i])
    return lowest, highest


@numba.njit(cache=True, nogil=True)
def _cholesky_solve(matrix, rhs, factor, out):
    """Solve ``matrix @ out = rhs`` for a symmetric positive definite matrix
    by its Cholesky factor (in ``factor``); False, leaving ``out`` as it was,
    where a pivot is not positive."""
    n = matrix.shape[0]
    for i in range(n):
        for j in range(i + 1):
            total = matrix[i, j]
            for k in range(j):
                total -= factor[i, k] * factor[j, k]
            if i == j:
                if total <= 0.0:
                    return False
                factor[i, i] = math.sqrt(total)
            else:
                factor[i, j] = total / factor[j, j]
    for i in range(n):
        total = rhs[i]
        for k in range(i):
            total -= factor[i, k] * out[k]
        out[i] = total / factor[i, i]
    for i in range(n - 1, -1, -1):
        total = out[i]
        for k in range(i + 1, n):
            total -= factor[k, i] * out[k]
        out[i] = total / factor[i, i]
    return True
