"""The classifier without a database: training, prediction, triage, evaluation, data and artifacts."""
from __future__ import annotations

import threading
from pathlib import Path

import joblib
import numpy as np
import pytest

from app.classification.baseline import baseline_category, baseline_emotion
from app.classification.compiled import CompiledBundle
from app.classification.dataset import LabelledSet, labelled_set, load_dataset
from app.classification.errors import (ArtifactCorrupt, ArtifactMissing, DatasetError, TrainingFailed,
                                       UnknownLabel)
from app.classification.evaluation import classification_report, evaluate_labelled_set
from app.classification.predictor import Predictor, PredictorCache
from app.classification.splits import class_preserving_folds, holdout_split
from app.classification.store import file_sha256, load_artifact, save_artifact
from app.classification.taxonomy import CATEGORIES, CATEGORY_CODES, EMOTION_CODES, get_category
from app.classification.training import TrainingConfig, TrainingResult, fit_bundle, passes_baseline, train

SEED = Path(__file__).resolve().parents[2] / "app" / "classification" / "data" / "complaints_zh_seed.csv"
HEADER = "id,text,category,emotion\n"


@pytest.fixture(scope="module")
def seed() -> LabelledSet:
    return load_dataset(SEED)


@pytest.fixture(scope="module")
def trained(seed: LabelledSet) -> TrainingResult:
    """The seed model, trained once for the module (fixed random_state)."""
    return train(seed, config=TrainingConfig(random_state=0))


@pytest.fixture(scope="module")
def predictor(trained: TrainingResult) -> Predictor:
    return Predictor(trained.bundle, threshold=0.5, version=1)


def _write(tmp_path: Path, content: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# --- taxonomy ---------------------------------------------------------------------------------

def test_the_taxonomy_has_13_categories_with_two_levels_in_both_languages() -> None:
    assert len(CATEGORIES) == 13 and len(set(CATEGORY_CODES)) == 13
    assert EMOTION_CODES == ("calm", "dissatisfied", "angry")
    assert get_category("delivery.damaged").label("zh_CN") == "配送问题/包装破损"
    assert get_category("delivery.damaged").label("en") == "Delivery / Damaged in transit"
    assert get_category("other").label("zh_CN") == "其他"
    with pytest.raises(KeyError, match="valid codes"):
        get_category("delivery.lost")


# --- training ---------------------------------------------------------------------------------

def test_the_seed_is_copied_whole_with_its_class_sizes(seed: LabelledSet) -> None:
    assert len(seed) == 2000
    assert seed.categories.count("product.quality") == 1143
    assert seed.categories.count("order.cancellation") == 3


def test_cross_validated_model_beats_the_keyword_baseline(trained: TrainingResult) -> None:
    metrics = trained.metrics
    cv, baseline = metrics["cross_validation"], metrics["baseline"]
    assert (cv["folds"], cv["rows"], cv["untested_categories"]) == (5, 2000, [])
    assert cv["category"]["macro_f1"] > baseline["category"]["macro_f1"] + 0.08
    assert cv["emotion"]["macro_f1"] > baseline["emotion"]["macro_f1"] + 0.05
    assert cv["category"]["accuracy"] > 0.7 and cv["emotion"]["accuracy"] > 0.7
    assert passes_baseline(metrics)
    assert metrics["holdout"]["rows"] == 393 and 0 < metrics["holdout"]["score"] < 1
    assert set(cv["category"]["per_class"]) == set(CATEGORY_CODES)


def test_training_is_deterministic(seed: LabelledSet) -> None:
    sample = seed.subset(list(range(0, 2000, 4)))
    first, second = (fit_bundle(sample, TrainingConfig(random_state=0)) for _ in range(2))
    texts = list(seed.texts[1:40:3])
    assert np.array_equal(first.probabilities(texts)[0], second.probabilities(texts)[0])
    assert np.array_equal(first.probabilities(texts)[1], second.probabilities(texts)[1])


def test_training_refuses_too_little_data(seed: LabelledSet) -> None:
    with pytest.raises(TrainingFailed, match="too few"):
        train(seed.subset(list(range(10))))
    only_quality = seed.subset([i for i, c in enumerate(seed.categories) if c == "product.quality"][:50])
    with pytest.raises(TrainingFailed, match="only one of the categories"):
        train(only_quality)


def test_folds_keep_every_class_in_training_and_test_each_row_once(seed: LabelledSet) -> None:
    folds = class_preserving_folds(seed.categories, 5, seed=0)
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested.tolist()) == list(range(len(seed)))
    for train_rows, _ in folds:
        assert {seed.categories[i] for i in train_rows} == set(CATEGORY_CODES)


def test_the_holdout_split_depends_on_the_rows_not_their_order(seed: LabelledSet) -> None:
    _, held = holdout_split(seed.texts, seed.categories, 0.2)
    reversed_rows = seed.subset(list(range(len(seed)))[::-1])
    _, held_reversed = holdout_split(reversed_rows.texts, reversed_rows.categories, 0.2)
    assert {seed.texts[i] for i in held} == {reversed_rows.texts[i] for i in held_reversed}
    assert not {"order.cancellation", "order.out_of_stock"} & {seed.categories[i] for i in held}


# --- prediction -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "category"), [
    ("快递太慢了，等了一个星期才送到", "delivery.late"),
    ("刚买完第二天就降价了，申请价保还被拒绝", "order.price"),
    ("手机用了三天就死机，质量太差", "product.quality"),
    ("发错货了，我买的是黑色，给我发了白色", "delivery.wrong"),
    ("箱子被压烂了，牛奶漏了一地", "delivery.damaged"),
    ("收到的衣服和图片完全不一样", "product.not_as_described"),
])
def test_predicts_the_category_of_chinese_complaints(predictor: Predictor, text: str, category: str) -> None:
    prediction = predictor.predict(text)
    assert prediction.category == category, f"{text} was classified as {prediction.category}"
    assert not prediction.needs_triage and prediction.triage_reason is None


def test_predicts_emotion(predictor: Predictor) -> None:
    assert predictor.predict("垃圾东西，骗子商家，我要投诉！！").emotion == "angry"
    assert predictor.predict("手机用了三天就死机，质量太差").emotion == "dissatisfied"


def test_a_prediction_has_calibrated_top3_and_confidences(predictor: Predictor) -> None:
    prediction = predictor.predict("联系客服好几天都没人回复")
    codes = [code for code, _ in prediction.top3]
    confidences = [p for _, p in prediction.top3]
    assert len(set(codes)) == 3 and set(codes) <= set(CATEGORY_CODES)
    assert confidences == sorted(confidences, reverse=True)
    assert (prediction.category, prediction.category_confidence) == prediction.top3[0]
    category_proba, emotion_proba = predictor.bundle.probabilities(["联系客服好几天都没人回复"])
    assert category_proba.sum() == pytest.approx(1.0) and emotion_proba.sum() == pytest.approx(1.0)
    assert prediction.emotion in EMOTION_CODES and 1 / 3 <= prediction.emotion_confidence <= 1


def test_english_text_gets_a_valid_answer_and_goes_to_triage(predictor: Predictor) -> None:
    prediction = predictor.predict("The package arrived crushed and the bottle leaked")
    assert prediction.category in CATEGORY_CODES and prediction.emotion in EMOTION_CODES
    assert 0 < prediction.category_confidence <= 1
    assert sum(p for _, p in prediction.top3) <= 1 + 1e-9
    # The seed is Chinese only: the model cannot know English, so a person decides.
    assert (prediction.needs_triage, prediction.triage_reason) == (True, "unfamiliar_language")


def test_mixed_chinese_with_brand_names_is_not_treated_as_foreign(predictor: Predictor) -> None:
    assert predictor.predict("华为mate7屏幕用了两天就坏了").triage_reason is None


def test_confidence_below_the_threshold_routes_to_triage(trained: TrainingResult) -> None:
    text = "东西一般吧，还行"
    confidence = Predictor(trained.bundle).predict(text).category_confidence
    assert Predictor(trained.bundle, threshold=confidence + 0.01).predict(text).triage_reason == "low_confidence"
    assert not Predictor(trained.bundle, threshold=confidence).predict(text).needs_triage
    assert Predictor(trained.bundle, threshold=0.0).predict("   ").triage_reason == "empty_text"
    # the customer chose the model's top category: their choice confirms a near miss, not a wild guess
    near = Predictor(trained.bundle, threshold=confidence + 0.01)
    top = near.predict(text).category
    agreed = near.predict(text, chosen_category=top)
    assert (agreed.needs_triage, agreed.triage_reason, agreed.disagrees_with_customer) == (False, None, False)
    other = next(code for code, _ in near.predict(text).top3 if code != top)
    assert near.predict(text, chosen_category=other).triage_reason == "low_confidence"
    far = Predictor(trained.bundle, threshold=min(1.0, confidence * 2 + 0.01))  # below half the threshold
    assert far.predict(text, chosen_category=top).triage_reason == "low_confidence"
    with pytest.raises(ValueError, match="between 0 and 1"):
        Predictor(trained.bundle, threshold=1.5)


def test_the_customers_category_is_compared_never_overwritten(predictor: Predictor) -> None:
    prediction = predictor.predict("快递太慢了，等了一个星期才送到", chosen_category="product.quality")
    assert (prediction.category, prediction.customer_category) == ("delivery.late", "product.quality")
    assert prediction.disagrees_with_customer
    agreeing = predictor.predict("快递太慢了，等了一个星期才送到", chosen_category="delivery.late")
    assert not agreeing.disagrees_with_customer
    assert predictor.predict("快递太慢了", chosen_category="").customer_category is None
    with pytest.raises(UnknownLabel, match="not a category code"):
        predictor.predict("快递太慢了", chosen_category="slow")


def test_the_compiled_scorer_gives_scikit_learns_probabilities(predictor: Predictor, seed: LabelledSet) -> None:
    assert predictor.is_compiled
    texts = list(seed.texts[::97]) + ["", "ok!", "ＡＢＣ！！质量"]
    category, emotion = predictor.bundle.probabilities(texts)
    compiled = CompiledBundle(predictor.bundle)
    for i, text in enumerate(texts):
        mine = compiled.probabilities(text)
        np.testing.assert_allclose(mine[0], category[i], atol=1e-12)
        np.testing.assert_allclose(mine[1], emotion[i], atol=1e-12)


def test_the_predictor_cache_loads_once_per_key_across_threads(predictor: Predictor) -> None:
    cache, loads = PredictorCache(), []

    def load() -> Predictor:
        loads.append(1)
        return predictor

    threads = [threading.Thread(target=cache.get, args=(("v1",), load)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and cache.get(("v1",), load) is predictor
    cache.get(("v2",), load)
    assert len(loads) == 2


# --- evaluation and baseline ------------------------------------------------------------------

def test_classification_report_figures() -> None:
    report = classification_report(["a", "a", "b", "c"], ["a", "b", "b", "c"], labels=("a", "b", "c", "d"))
    assert report["accuracy"] == 0.75
    assert report["per_class"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert report["per_class"]["d"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert report["macro_f1"] == round((2 / 3 + 2 / 3 + 1) / 3, 4)  # over the labels that occur
    assert report["confusion"] == {"labels": ["a", "b", "c", "d"],
                                   "matrix": [[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]}


def test_evaluation_reports_model_and_baseline_on_any_labelled_set(predictor: Predictor, seed: LabelledSet) -> None:
    sample = seed.subset(list(range(0, 2000, 20)))
    result = evaluate_labelled_set(predictor.bundle, sample)
    assert set(result) == {"category", "emotion", "baseline", "rows"} and result["rows"] == 100
    assert set(result["baseline"]) == {"category", "emotion"}
    for report in (result["category"], result["emotion"], *result["baseline"].values()):
        assert set(report) == {"accuracy", "macro_f1", "per_class", "confusion"}
        assert sum(map(sum, report["confusion"]["matrix"])) == 100
    assert result["category"]["per_class"]["product.quality"]["support"] == sample.categories.count("product.quality")


@pytest.mark.parametrize(("text", "category"), [
    ("发错货了", "delivery.wrong"), ("降价了也不给保价", "order.price"), ("箱子压坏了", "delivery.damaged"),
    ("发票没给", "order.payment"), ("The box was crushed", "delivery.damaged"), ("完全看不懂", "product.quality"),
])
def test_the_keyword_baseline(text: str, category: str) -> None:
    assert baseline_category(text) == category


def test_the_keyword_baseline_emotion() -> None:
    assert baseline_emotion("垃圾") == baseline_emotion("太差了！！") == "angry"
    assert baseline_emotion("有点小") == "calm"
    assert baseline_emotion("很失望") == "dissatisfied"


# --- labelled CSVs ----------------------------------------------------------------------------

def test_a_well_formed_csv_loads_with_quotes_and_a_bom(tmp_path: Path) -> None:
    path = _write(tmp_path, "\ufeff" + HEADER + '1,"坏了，退货",product.quality,angry\n2,一般,other, calm \n')
    data = load_dataset(path)
    assert data.texts == ("坏了，退货", "一般") and data.emotions == ("angry", "calm")
    assert data.data_hash() == labelled_set([("坏了，退货", "product.quality", "angry"),
                                             ("一般", "other", "calm")]).data_hash()


@pytest.mark.parametrize(("content", "message"), [
    ("id,text,category\n1,坏了,product.quality\n", "missing column(s) emotion"),
    (HEADER + "1,坏了,product.broken,angry\n", "line 2: unknown category 'product.broken'"),
    (HEADER + "1,坏了,product.quality,furious\n", "line 2: unknown emotion 'furious'"),
    (HEADER + "1,坏了,other,calm\n2,  ,product.quality,angry\n", "line 3: empty text"),
    (HEADER + "1,坏了,还要退,other,calm\n", "line 2: 5 fields where the header has 4"),
    (HEADER + "1,坏了\n", "line 2: fewer fields"),
    (HEADER, "a header but no rows"),
    ("id,text,category,emotion\n1,好,other,calm\n".encode("gbk") + "2,坏了,other,calm\n".encode("gbk"),
     "not UTF-8"),
])
def test_malformed_csvs_are_refused_with_the_line_and_the_fix(tmp_path: Path, content: str | bytes,
                                                              message: str) -> None:
    with pytest.raises(DatasetError) as caught:
        load_dataset(_write(tmp_path, content))
    assert message in caught.value.message


def test_every_bad_row_is_listed_with_the_valid_codes(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "1,a,bad,calm\n2,b,other,bad\n3,c,other,calm\n")
    with pytest.raises(DatasetError, match="2 bad row") as caught:
        load_dataset(path)
    assert "valid categories: product.quality" in caught.value.message
    assert "valid emotions: calm, dissatisfied, angry" in caught.value.message


def test_a_missing_csv_says_so(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        load_dataset(tmp_path / "nope.csv")


# --- artifacts --------------------------------------------------------------------------------

def test_an_artifact_round_trips_with_its_checksum(trained: TrainingResult, tmp_path: Path) -> None:
    path = tmp_path / "models" / "classifier-v1.joblib"
    sha256 = save_artifact(trained.bundle, path)
    assert sha256 == file_sha256(path) and not list(path.parent.glob(".*partial"))
    loaded = Predictor.from_artifact(path, sha256=sha256)
    assert loaded.predict("快递太慢了，等了一个星期才送到") == Predictor(trained.bundle).predict(
        "快递太慢了，等了一个星期才送到")


def test_a_missing_artifact_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ArtifactMissing, match=r"does not exist; retrain with `flask --app wsgi ml train`"):
        load_artifact(tmp_path / "classifier-v9.joblib", "0" * 64)


def test_a_changed_artifact_is_refused_before_unpickling(trained: TrainingResult, tmp_path: Path) -> None:
    path = tmp_path / "classifier-v1.joblib"
    sha256 = save_artifact(trained.bundle, path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ArtifactCorrupt, match="does not match the sha256"):
        load_artifact(path, sha256)


def test_an_unreadable_artifact_is_a_clear_error(tmp_path: Path) -> None:
    garbage = _write(tmp_path, b"not a pickle at all", "classifier-v1.joblib")
    with pytest.raises(ArtifactCorrupt, match="cannot be read"):
        load_artifact(garbage)
    joblib.dump({"weights": [1, 2]}, tmp_path / "other.joblib")
    with pytest.raises(ArtifactCorrupt, match="does not hold a Kesu classifier"):
        load_artifact(tmp_path / "other.joblib")


def test_an_artifact_from_another_scikit_learn_is_refused(trained: TrainingResult, tmp_path: Path) -> None:
    bundle = trained.bundle
    old = type(bundle)(bundle.features, bundle.category_model, bundle.emotion_model, data_hash=bundle.data_hash,
                       trained_rows=bundle.trained_rows, sklearn_version="1.0.2")
    save_artifact(old, tmp_path / "old.joblib")
    with pytest.raises(ArtifactCorrupt, match="trained with scikit-learn 1.0.2"):
        load_artifact(tmp_path / "old.joblib")
