"""Inverse kinematics of a two-link robot arm: two outputs, two valid answers.

A planar arm with links of length 0.8 and 0.6 has joint angles (theta1,
theta2); forward kinematics gives its hand position (x, y), a function. The
inverse, hand position -> joint angles, is not: most positions are reached
both "elbow up" and "elbow down", with theta2 of opposite signs. Joint angles
are drawn uniformly in ranges where both occur, and MDNRegressor learns
p(theta1, theta2 | x, y), a mixture of 2-D Gaussians. For one target
position, ``predict_dist(...).modes()`` finds both configurations, and forward
kinematics confirms that each puts the hand on the target. MLPRegressor
averages the two, a stretched arm that reaches somewhere else.

Within one configuration the two angles are correlated (noise on the hand
moves the shoulder and elbow together), so components with full covariance
matrices (``covariance_type="full"``) fit p(theta1, theta2 | x, y) better
than diagonal ones; the script fits both and uses the full model below.

Run ``python examples/plot_robot_arm.py [--output-dir DIR] [--max-iter N]``;
it prints both models' test log-likelihoods, the modes, their reach errors
and the reach errors over a test set, and writes ``robot_arm.png``.
"""

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402

from skmdn import MDNRegressor  # noqa: E402

LINKS = (0.8, 0.6)
# Both elbow configurations of most reachable positions fall in these ranges.
THETA1_RANGE = (0.0, 2.0)
THETA2_RANGE = (-2.5, 2.5)
# Standard deviation of the noise on the measured hand position.
NOISE = 0.01
TARGET_ANGLES = (0.4, 1.3)


def forward_kinematics(angles):
    """Elbow and hand positions, each of shape (..., 2), for angles (..., 2)."""
    theta1, theta2 = angles[..., 0], angles[..., 1]
    elbow = LINKS[0] * np.stack([np.cos(theta1), np.sin(theta1)], axis=-1)
    hand = elbow + LINKS[1] * np.stack(
        [np.cos(theta1 + theta2), np.sin(theta1 + theta2)], axis=-1
    )
    return elbow, hand


def inverse_kinematics(hand):
    """Both exact solutions (elbow with theta2 > 0, then theta2 < 0), shape (2, 2)."""
    (l1, l2), (x, y) = LINKS, hand
    theta2 = np.arccos((x * x + y * y - l1 * l1 - l2 * l2) / (2 * l1 * l2))
    solutions = []
    for t2 in (theta2, -theta2):
        solutions.append((np.arctan2(y, x) - np.arctan2(l2 * np.sin(t2), l1 + l2 * np.cos(t2)), t2))
    return np.array(solutions)


def make_arm_data(n_samples, random_state):
    """Hand positions (with measurement noise) and the joint angles that produced them."""
    rng = np.random.default_rng(random_state)
    angles = np.column_stack([rng.uniform(*THETA1_RANGE, n_samples),
                              rng.uniform(*THETA2_RANGE, n_samples)])
    _, hand = forward_kinematics(angles)
    return hand + rng.normal(scale=NOISE, size=hand.shape), angles


def reach_error(angles, target):
    """Distance from the hand at ``angles`` to ``target``."""
    return np.linalg.norm(forward_kinematics(np.asarray(angles))[1] - target, axis=-1)


def draw_arm(ax, angles, **style):
    elbow, hand = forward_kinematics(np.asarray(angles))
    points = np.array([[0.0, 0.0], elbow, hand])
    ax.plot(points[:, 0], points[:, 1], marker="o", linewidth=3, markersize=6, **style)


def main(output_dir, max_iter):
    X, y = make_arm_data(4000, random_state=0)
    X_test, y_test = make_arm_data(1000, random_state=1)
    budget = max_iter or "auto"
    diagonal = MDNRegressor(max_iter=budget, random_state=0).fit(X, y)
    mdn = MDNRegressor(covariance_type="full", max_iter=budget, random_state=0).fit(X, y)
    mlp = MLPRegressor(max_iter=max_iter or 500, random_state=0).fit(X, y)
    print("MDNRegressor test log-likelihood:")
    print(f"  covariance_type='diag': {diagonal.score(X_test, y_test):.3f}")
    print(f"  covariance_type='full': {mdn.score(X_test, y_test):.3f}")

    _, target = forward_kinematics(np.array(TARGET_ANGLES))
    dist = mdn.predict_dist(target[None, :])
    modes, log_density = dist.modes()
    # Highest density first; a NaN row is padding.
    modes = modes[0][~np.isnan(modes[0, :, 0])]
    log_density = log_density[0][: len(modes)]
    mlp_angles = mlp.predict(target[None, :])[0]
    exact = inverse_kinematics(target)

    print(f"\ntarget hand position: ({target[0]:.3f}, {target[1]:.3f})")
    print(f"{'':<26}{'theta1':>8}{'theta2':>8}{'reach error':>13}{'log density':>13}")
    for name, angles in zip(("exact, elbow theta2 > 0", "exact, elbow theta2 < 0"), exact):
        print(f"{name:<26}{angles[0]:>8.3f}{angles[1]:>8.3f}{reach_error(angles, target):>13.4f}")
    for rank, (angles, density) in enumerate(zip(modes, log_density), start=1):
        print(f"{f'MDN mode {rank}':<26}{angles[0]:>8.3f}{angles[1]:>8.3f}"
              f"{reach_error(angles, target):>13.4f}{density:>13.2f}")
    print(f"{'MLPRegressor (mean)':<26}{mlp_angles[0]:>8.3f}{mlp_angles[1]:>8.3f}"
          f"{reach_error(mlp_angles, target):>13.4f}")
    # The two highest modes, when there are two (a short fit may find one).
    shown = modes[:2]
    if len(shown) == 2:
        distinct = np.sign(shown[0, 1]) != np.sign(shown[1, 1])
        print(f"the two highest modes are "
              f"{'distinct elbow configurations' if distinct else 'NOT distinct'}"
              f" (theta2 {shown[0, 1]:+.2f} and {shown[1, 1]:+.2f})")
    else:
        print("the model found a single mode")

    mdn_errors = reach_error(mdn.predict(X_test), X_test)
    mlp_errors = reach_error(mlp.predict(X_test), X_test)
    print(f"\nreach error on {len(X_test)} test positions (hand measurement noise {NOISE}):")
    print(f"{'':<26}{'median':>8}{'90%':>8}")
    for name, errors in (("MDNRegressor.predict", mdn_errors), ("MLPRegressor", mlp_errors)):
        print(f"{name:<26}{np.median(errors):>8.4f}{np.quantile(errors, 0.9):>8.4f}")

    fig, (arm_ax, joint_ax) = plt.subplots(1, 2, figsize=(13, 5.8))
    arm_ax.scatter(X[:, 0], X[:, 1], s=1, color="0.8", label="hand positions (training)")
    for rank, (angles, colour) in enumerate(zip(shown, ("C0", "C2")), start=1):
        draw_arm(arm_ax, angles, color=colour,
                 label=f"MDN mode {rank}: reach error {reach_error(angles, target):.3f}")
    draw_arm(arm_ax, mlp_angles, color="C3", linestyle="--", alpha=0.8,
             label=f"MLPRegressor: reach error {reach_error(mlp_angles, target):.3f}")
    arm_ax.scatter(*target, marker="*", s=300, color="gold", edgecolor="k", zorder=4,
                   label="target hand position")
    arm_ax.set_aspect("equal")
    arm_ax.set_xlabel("x")
    arm_ax.set_ylabel("y")
    arm_ax.set_title("Two arm configurations reach the target")
    arm_ax.legend(loc="lower left", fontsize="small", markerscale=1)

    samples = dist.sample(500, random_state=0)[0]
    joint_ax.scatter(y[:, 0], y[:, 1], s=1, color="0.85", label="training joint angles")
    joint_ax.scatter(exact[:, 0], exact[:, 1], marker="+", s=400, color="k", zorder=4,
                     label="exact inverse kinematics")
    joint_ax.scatter(shown[:, 0], shown[:, 1], s=250, facecolor="none", zorder=4,
                     edgecolor=["C0", "C2"][: len(shown)], linewidth=2,
                     label="MDN modes 1 and 2")
    joint_ax.scatter(*mlp_angles, marker="s", s=80, color="C3", zorder=4,
                     label="MLPRegressor: the mean")
    joint_ax.scatter(samples[:, 0], samples[:, 1], s=8, color="C1", zorder=5,
                     label="500 samples of p(theta | target)")
    joint_ax.set_xlabel("theta1 (shoulder) [rad]")
    joint_ax.set_ylabel("theta2 (elbow) [rad]")
    joint_ax.set_title("Joint angles: p(theta1, theta2 | target) has two modes")
    joint_ax.legend(loc="lower left", fontsize="small")
    fig.tight_layout()
    output = pathlib.Path(output_dir) / "robot_arm.png"
    fig.savefig(output, dpi=100)
    print(f"wrote {output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default=".", help="where to write the figure")
    parser.add_argument(
        "--max-iter", type=int,
        help='epochs (default: 500 for MLPRegressor, the "auto" budget for MDNRegressor)',
    )
    arguments = parser.parse_args()
    main(arguments.output_dir, arguments.max_iter)
