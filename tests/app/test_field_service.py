"""The landscape's picture of a loss over many rows: a polynomial loss is drawn exactly whatever the rows (moment
sums), a costly one over a sample of them, said on the plot, so the full picture comes in about a second."""

import numpy as np

from gdstudio.app.plots import field_service
from gdstudio.app.plots.field_service import FieldRequest, bounded, compute
from gdstudio.core.expression import parse_objective


def request(text: str, rows: int) -> FieldRequest:
    rng = np.random.default_rng(0)
    x = rng.normal(size=rows)
    data = np.array([x, (x > 0).astype(float)])
    objective = parse_objective(text, columns=("x", "y"), data=data)
    return FieldRequest(objective, ("a", "b"), ((-2.0, 2.0), (-2.0, 2.0)))


def test_a_costly_loss_is_drawn_over_a_sample_and_a_polynomial_one_over_every_row(monkeypatch):
    monkeypatch.setattr(field_service, "GRID", 40)
    monkeypatch.setattr(field_service, "FULL_BUDGET", 40 * 40 * 500)  # (a million rows' worth, scaled down)
    logistic = request("mean(log(1 + exp(-(2*y - 1)*(a*x + b))))", 5000)
    drawn = compute(logistic, lambda: False, preview=False)
    assert drawn.sampled_rows == 500 and drawn.field is not None and np.isfinite(drawn.field.z).all()
    assert drawn.rows_note() == " over 500 of the 5,000 rows"  # (said on the plot)
    exact = compute(request("mean((a*x + b - y)^2)", 5000), lambda: False, preview=False)
    assert exact.sampled_rows == 0 and exact.field is not None
    assert logistic.objective.rows_per_point() == 5000 and exact.request.objective.rows_per_point() == 0


def test_a_preview_reads_no_more_rows_than_the_full_picture_of_a_costly_loss():
    """The preview comes first, so it must come at once: 48x48 points over no more rows than the full picture's
    sample (it had twice as many: a million-row logistic regression's preview took up to 0.65 s)."""
    logistic = request("mean(log(1 + exp(-(2*y - 1)*(a*x + b))))", 20_000)
    preview = compute(logistic, lambda: False, preview=True)
    assert preview.field is not None and np.isfinite(preview.field.z).all()
    assert 0 < preview.sampled_rows <= field_service.FULL_BUDGET // field_service.GRID**2


def test_tools_that_cannot_stop_midway_read_a_sample_of_a_costly_loss_only():
    """Critical points and the insight panels evaluate the loss many times and cannot be cancelled midway."""
    logistic = request("mean(log(1 + exp(-(2*y - 1)*(a*x + b))))", 5000).objective
    assert bounded(logistic, 500).data.shape[1] == 500 and bounded(logistic, 5000) is logistic
    exact = request("mean((a*x + b - y)^2)", 5000).objective
    assert bounded(exact, 500) is exact  # (moment sums: no rows read per point)


def test_a_grid_is_evaluated_in_strips_of_grid_rows_only_where_each_point_reads_rows(monkeypatch):
    """A polynomial loss over a million rows reads none per point (moment sums): the whole grid in one evaluation. A
    costly one is cut into strips (a newer request cancels it between them), never more than the grid has rows."""
    from gdstudio.app.plots.contours import grid_values
    from gdstudio.core.expression import Objective

    calls = []
    loss = Objective.loss
    monkeypatch.setattr(Objective, "loss", lambda self, *coords: (calls.append(coords[0].shape), loss(self, *coords))[1])
    X, Y = np.meshgrid(np.linspace(-2, 2, 30), np.linspace(-2, 2, 40))
    for text, rows, strips in (("mean((a*x + b - y)^2)", 1_000_000, 1), ("mean(log(1 + exp(-a*x - b*y)))", 100_000, 40)):
        objective = request(text, rows).objective
        calls.clear()
        values = grid_values(objective, [X, Y])
        assert len(calls) == strips and sum(shape[0] for shape in calls) == 40
        np.testing.assert_allclose(values[7], loss(objective, X[7], Y[7]), rtol=1e-12)
