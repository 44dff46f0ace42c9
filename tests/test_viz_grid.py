"""viz.show_images' row labels: one per row of the grid, written left of the rows."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from ddim_teach import viz  # noqa: E402


def test_row_labels_sit_at_the_row_centres():
    ax = viz.show_images(torch.zeros(6, 1, 28, 28), nrow=3, row_labels=["η = 0", "η = 1"], fontsize=14)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["η = 0", "η = 1"]
    assert list(ax.get_yticks()) == [2 + 14, 2 + 30 + 14]          # pad 2, image 28, pad between rows 2
    assert ax.get_yticklabels()[0].get_fontsize() == 14
    plt.close("all")


def test_a_label_count_that_is_not_the_row_count_is_refused():
    with pytest.raises(ValueError, match="2 rows of 3 images, got 3 labels"):
        viz.show_images(torch.zeros(6, 1, 28, 28), nrow=3, row_labels=["a", "b", "c"])

