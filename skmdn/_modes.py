"""The mode search: every local maximum of each row's Gaussian mixture.

Compiled with numba. A climb is a short run of steps whose number depends on
where it starts; vectorised over climbs, numpy spent most of its time packing
and unpacking the climbs still going rather than computing. Compiled, each
row's climbs run one after another, and blocks of rows run in parallel threads
(the kernels release the GIL).

Two kernels run the same climbs: one output (most mixtures) in scalars, one
function that compiles in about 2 s on a 2-core machine, and several outputs
with vectors, matrices and helper functions, about 16 s. Each is compiled on
its first use and cached on disk beside this file, or in the user's cache
directory where that is not writable; later processes load it in about half a
second. numba's compiler spends its time per function and per inlined call
site, so the kernel every first ``predict`` needs is kept to one function.
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
# The helpers a climb calls on every step are inlined ("always"): a call that
# passes arrays costs reference counting, about a quarter of the time.


def n_starts(n_components, n_outputs):
    """How many climbs each row runs (see ``local_maxima``)."""
    if n_outputs == 1:
        return n_components
    return n_components + n_components * (n_components - 1) // 2


def local_maxima(log_normalisers, means, scales, points, log_density):
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
    """
    kernel = _univariate_maxima if means.shape[2] == 1 else _maxima
    kernel(log_normalisers, means, scales, points, log_density)


@numba.njit(cache=True, nogil=True)
def _maxima(log_normalisers, means, scales, points, log_density):
    """``local_maxima`` for any number of outputs (used for several)."""
    n_rows, n_components, n_outputs = means.shape
    total_starts = points.shape[1]
    row_means = np.empty((n_components, n_outputs))
    precision = np.empty((n_components, n_outputs))
    centre = np.empty(n_outputs)
    widths = np.empty(total_starts)
    # The peaks this row's climbs have found so far, and their widths.
    peaks = np.empty((total_starts, n_outputs))
    peak_widths = np.empty(total_starts)
    log_terms = np.empty(n_components)
    # Each climb's state and scratch (see ``_climb``), reused by every climb.
    work = np.empty((9, n_outputs))
    accepted, tried, safe_step, current = work[0], work[1], work[2], work[3]
    gradient, weighted_precision, magnitude, newton, scratch = work[4], work[5], work[6], work[7], work[8]
    hessian = np.empty((n_outputs, n_outputs))
    for row in range(n_rows):
        unit = np.min(scales[row])
        for i in range(n_outputs):
            centre[i] = np.mean(means[row, :, i])
            for k in range(n_components):
                row_means[k, i] = (means[row, k, i] - centre[i]) / unit
                precision[k, i] = (unit / scales[row, k, i]) ** 2
        row_points = points[row]
        row_log_normalisers = log_normalisers[row]
        _starting_points(row_means, precision, row_points)
        n_peaks = 0
        for start in range(total_starts):
            log_density[row, start], widths[start] = _climb(
                row_points[start], row_log_normalisers, row_means, precision,
                peaks, peak_widths, n_peaks,
                log_terms, hessian, accepted, tried, safe_step, current, gradient,
                weighted_precision, magnitude, newton, scratch,
            )
            if log_density[row, start] > -np.inf:
                peaks[n_peaks] = row_points[start]
                peak_widths[n_peaks] = widths[start]
                n_peaks += 1
        _keep_distinct(row_points, log_density[row], widths)
        for start in range(total_starts):
            for i in range(n_outputs):
                row_points[start, i] = centre[i] + unit * row_points[start, i]


@numba.njit(cache=True, nogil=True)
def _univariate_maxima(log_normalisers, means, scales, points, log_density):
    """``local_maxima`` for one output: ``_maxima``'s climbs, in scalars.

    The same steps, stops and merging as ``_maxima`` with ``_climb``,
    ``_evaluate``, ``_newton_step``, ``_cut`` and ``_keep_distinct`` written
    out for d = 1 in this one function, which numba compiles in a fraction of
    their time (see the module's docstring); the tests hold the two kernels
    to the same peaks.
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
                # _evaluate: log p, its gradient and second derivative, and
                # the bounds on their rounding.
                largest = -np.inf
                for k in range(n_components):
                    difference = current - row_means[k]
                    log_terms[k] = (
                        row_log_normalisers[k] - 0.5 * precision[k] * difference * difference
                    )
                    largest = max(largest, log_terms[k])
                # Where the density underflows to 0 (see ``_nowhere``).
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
                # _cut's arithmetic, so that both kernels round alike.
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
        # _keep_distinct: a climb ranks above another with a higher density, or
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
def _starting_points(means, precision, starts):
    """Fill ``starts`` (S, d) with the component means, then the pair points.

    ``starts`` has room for the pair points only with several outputs (see
    ``n_starts``).
    """
    n_components, n_outputs = means.shape
    starts[:n_components] = means
    if starts.shape[0] == n_components:
        return
    start = n_components
    for first in range(n_components):
        for second in range(first + 1, n_components):
            for i in range(n_outputs):
                starts[start, i] = (
                    precision[first, i] * means[first, i] + precision[second, i] * means[second, i]
                ) / (precision[first, i] + precision[second, i])
            start += 1


@numba.njit(cache=True, nogil=True, inline="always")
def _evaluate(y, log_normalisers, means, precision, log_terms, gradient, weighted_precision,
              magnitude, hessian):
    """Log density, gradient, Hessian and their rounding at ``y`` (d,).

    Fills ``gradient``, ``weighted_precision`` (sum_k r_k P_k, r_k the
    responsibilities), ``magnitude`` (sum_k r_k P_k (|mu_k - y| + |y|), what
    the gradient's rounding scales with) and ``hessian`` (sum_k r_k g_k g_k^T
    - g g^T - diag(sum_k r_k P_k), g_k = P_k (mu_k - y)). Returns the log
    density and bounds on the rounding error of it and of each gradient entry.
    """
    n_components, n_outputs = means.shape
    largest = -np.inf
    for k in range(n_components):
        quadratic = 0.0
        for i in range(n_outputs):
            difference = y[i] - means[k, i]
            quadratic += precision[k, i] * difference * difference
        log_terms[k] = log_normalisers[k] - 0.5 * quadratic
        largest = max(largest, log_terms[k])
    if largest == -np.inf:
        return _nowhere()
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
        size += term * (abs(log_normalisers[k]) + log_normalisers[k] - log_terms[k])
        for i in range(n_outputs):
            pull = precision[k, i] * (means[k, i] - y[i])
            gradient[i] += term * pull
            weighted_precision[i] += term * precision[k, i]
            magnitude[i] += term * abs(pull)
            for j in range(i + 1):
                hessian[i, j] += term * pull * precision[k, j] * (means[k, j] - y[j])
    for i in range(n_outputs):
        gradient[i] /= total
        weighted_precision[i] /= total
        magnitude[i] = magnitude[i] / total + abs(y[i]) * weighted_precision[i]
    for i in range(n_outputs):
        for j in range(i + 1):
            hessian[i, j] = hessian[i, j] / total - gradient[i] * gradient[j]
            hessian[j, i] = hessian[i, j]
        hessian[i, i] -= weighted_precision[i]
    return _log_density_and_noise(largest, total, size, magnitude)


@numba.njit(cache=True, nogil=True, inline="always")
def _nowhere():
    """``_log_density_and_noise`` where the density underflows to 0: every
    component is infinitely far in float64 (or has weight 0). Climbs do not
    start there (see ``_climb``), and never step there."""
    return -np.inf, 0.0, 0.0


@numba.njit(cache=True, nogil=True, inline="always")
def _log_density_and_noise(largest, total, size, magnitude):
    """log p and the rounding bounds of log p and of each gradient entry.

    A term's log is rounded in proportion to |log w_k N_k| and its
    quadratic (``size``, summed over the terms); the gradient in proportion
    to ``magnitude`` and to the responsibilities' own rounding.
    """
    log_p_noise = _ROUNDING * (1.0 + size / total)
    return largest + math.log(total), log_p_noise, (_ROUNDING + log_p_noise) * _max_abs(magnitude)


@numba.njit(cache=True, nogil=True, inline="always")
def _newton_step(gradient, hessian, step):
    """Fill ``step`` with the Newton step where the Hessian is negative definite.

    Returns whether it is, its sharpest and flattest curvature there (the
    largest and smallest |eigenvalue|; the peak's narrowest width is
    1 / sqrt(sharpest)), and whether the Hessian has a positive eigenvalue (a
    minimum or saddle).
    """
    if gradient.shape[0] == 1:
        lowest = highest = hessian[0, 0]
    else:
        eigenvalues = np.linalg.eigvalsh(hessian)
        lowest, highest = eigenvalues[0], eigenvalues[-1]
    concave = highest < 0.0
    if concave:
        if gradient.shape[0] == 1:
            step[0] = -gradient[0] / hessian[0, 0]
        else:
            step[:] = -np.linalg.solve(hessian, gradient)
    return concave, -lowest, -highest, highest > 0.0


@numba.njit(cache=True, nogil=True, inline="always")
def _cut(step, length, stretch, out):
    """Fill ``out`` with ``step`` cut to at most ``length`` long (max-norm).

    With ``stretch``, a non-zero step is made exactly that long.
    """
    current = _max_abs(step)
    factor = 0.0
    if current > 0.0:
        factor = length / current
        if not stretch:
            factor = min(1.0, factor)
    for i in range(step.shape[0]):
        out[i] = step[i] * factor


@numba.njit(cache=True, nogil=True, inline="always")
def _climb(point, log_normalisers, means, precision, peaks, peak_widths, n_peaks, log_terms,
           hessian, accepted, tried, safe_step, current, gradient, weighted_precision,
           magnitude, newton, scratch):
    """Climb from ``point`` (d,), which is overwritten with where the climb ended.

    A climb whose Newton step lands within ``_MERGE_RADIUS`` of the width of
    one of the first ``n_peaks`` of ``peaks`` (found by earlier climbs of the
    row) stops there: from that close, Newton steps converge on that peak,
    and ``_keep_distinct`` would report it once anyway. Most climbs of a row
    end on a peak already found, and this saves their last evaluations.

    ``accepted`` (the last point that did not lower the density), ``tried``
    (the step last tried from there), ``safe_step`` (the cut fixed-point step
    from there) and the rest of the (d,) arrays are the climb's state and
    scratch, allocated once per call of ``local_maxima``.

    Returns the log density there (-inf at a minimum or saddle, or on a peak
    already found) and the peak's narrowest width (one, the row's smallest
    scale, where log p is not concave).
    """
    n_outputs = point.shape[0]
    for i in range(n_outputs):
        accepted[i] = point[i]
        tried[i] = 0.0
        safe_step[i] = 0.0
    log_density = -np.inf
    width = 1.0
    not_maximum = False
    converged = False
    for _ in range(_MODE_MAX_ITER):
        for i in range(n_outputs):
            current[i] = accepted[i] + tried[i]
        log_p, log_p_noise, gradient_noise = _evaluate(
            current, log_normalisers, means, precision, log_terms, gradient,
            weighted_precision, magnitude, hessian,
        )
        worse = log_p < log_density - log_p_noise
        if worse:
            # Undone; tried again at half the length, down to the fixed-point step.
            shorter = 0.5 * _max_abs(tried) <= _max_abs(safe_step)
            for i in range(n_outputs):
                tried[i] = safe_step[i] if shorter else 0.5 * tried[i]
            continue
        if log_p == -np.inf:
            # A start where the density underflows to 0 (the mean of a
            # component of weight 0, far from the others) has no gradient to
            # follow; the other starts find the maxima.
            break
        concave, sharpest, flattest, at_saddle = _newton_step(gradient, hessian, newton)
        log_density = log_p
        not_maximum = at_saddle
        sharpest_precision = 0.0
        for i in range(n_outputs):
            accepted[i] = current[i]
            sharpest_precision = max(sharpest_precision, weighted_precision[i])
            # sum r_k P_k mu_k / sum r_k P_k, the fixed point, less the point.
            scratch[i] = gradient[i] / weighted_precision[i]
        local_scale = 1.0 / math.sqrt(sharpest_precision)
        _cut(scratch, _STEP_LIMIT * local_scale, False, safe_step)
        if concave:
            width = 1.0 / math.sqrt(sharpest)
            _cut(newton, _STEP_LIMIT * local_scale, False, tried)
            # Stop below the tolerance, or the rounding of the gradient and of y.
            limit = (
                _MODE_TOLERANCE * width
                + gradient_noise / flattest
                + _ROUNDING * _max_abs(current)
            )
            if _max_abs(tried) <= limit:
                converged = True
                break
            for i in range(n_outputs):
                scratch[i] = current[i] + tried[i]
            if _near_peak(scratch, peaks, peak_widths, n_peaks):
                return -np.inf, width
        else:
            # Where log p is not concave, go the fixed-point step's way at
            # full length: that step shrinks with the gradient, and a start
            # near a minimum would crawl out over hundreds of steps.
            width = 1.0
            _cut(scratch, _STEP_LIMIT * local_scale, True, tried)
            if _max_abs(gradient) <= gradient_noise:
                break
    # A converged climb takes its last (tiny) Newton step.
    for i in range(n_outputs):
        point[i] = accepted[i] + (tried[i] if converged else 0.0)
    return (-np.inf if not_maximum else log_density), width


@numba.njit(cache=True, nogil=True, inline="always")
def _near_peak(point, peaks, peak_widths, n_peaks):
    """Whether ``point`` is within ``_MERGE_RADIUS`` widths of one of the found ``peaks``."""
    for peak in range(n_peaks):
        if _max_abs_difference(point, peaks[peak]) <= _MERGE_RADIUS * peak_widths[peak]:
            return True
    return False


@numba.njit(cache=True, nogil=True)
def _keep_distinct(points, log_density, widths):
    """Set ``log_density`` to -inf for climbs that repeat a higher climb's peak."""
    order = np.argsort(-log_density, kind="mergesort")
    found = np.isfinite(log_density)
    for rank in range(order.shape[0]):
        climb = order[rank]
        if not found[climb]:
            break
        radius = _MERGE_RADIUS * widths[climb]
        for higher in order[:rank]:
            if _max_abs_difference(points[climb], points[higher]) <= radius:
                log_density[climb] = -np.inf
                break


@numba.njit(cache=True, nogil=True, inline="always")
def _max_abs(values):
    """max_i |values_i|, without a temporary array."""
    largest = 0.0
    for value in values:
        largest = max(largest, abs(value))
    return largest


@numba.njit(cache=True, nogil=True, inline="always")
def _max_abs_difference(first, second):
    """max_i |first_i - second_i|."""
    largest = 0.0
    for i in range(first.shape[0]):
        largest = max(largest, abs(first[i] - second[i]))
    return largest
