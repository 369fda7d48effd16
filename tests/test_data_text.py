"""Text datasets: vocabulary, unknown bucket, undecodable bytes, split, baselines, samples."""

import math

import numpy as np
import pytest

from rnn_core.data import TEXT_SAMPLES, UNKNOWN_CHAR, text_dataset
from rnn_core.errors import PlaygroundError


def test_vocab_counts_split_and_round_trip():
    text = "abracadabra " * 20
    ds = text_dataset(text, seq_len=8, val_fraction=0.25)
    assert ds.vocab == [" ", "a", "b", "c", "d", "r"]
    assert ds.counts == {" ": 20, "a": 100, "b": 40, "c": 20, "d": 20, "r": 40}
    assert len(ds.train_ids) == 180 and len(ds.val_ids) == 60
    assert ds.decode(ds.train_ids) + ds.decode(ds.val_ids) == text
    assert ds.train_ids.dtype == np.int64 and ds.vocab_size == ds.input_size == 6
    np.testing.assert_array_equal(ds.encode("bad"), [2, 1, 4])
    assert ds.kind == "text" and ds.report["chars"] == 240


def test_unknown_bucket_when_capped():
    text = "aaaaabbbbcccdde" * 10  # counts a50 b40 c30 d20 e10
    ds = text_dataset(text, seq_len=4, max_vocab=3)
    assert ds.vocab == ["a", "b", UNKNOWN_CHAR]
    assert ds.counts[UNKNOWN_CHAR] == 60 and ds.report["unknown"] == 60
    assert ds.decode(ds.encode("abcz")) == "ab" + UNKNOWN_CHAR * 2
    assert ds.report["capped"] is True
    assert any("capped" in n for n in ds.report["notes"])


def test_encode_without_bucket_names_missing_characters():
    ds = text_dataset("hello world " * 10, seq_len=4)
    with pytest.raises(PlaygroundError, match=r"not in the vocabulary: 'z'"):
        ds.encode("zoo")
    with pytest.raises(PlaygroundError, match="character ids"):
        ds.decode([0, 99])


def test_lowercasing():
    ds = text_dataset("Hello World. " * 10, seq_len=4, lowercase=True)
    assert "H" not in ds.vocab and "h" in ds.vocab and ds.report["lowercased"] is True
    np.testing.assert_array_equal(ds.encode("HE"), ds.encode("he"))


def test_undecodable_bytes_are_reported_not_fatal():
    data = ("caf\u00e9 au lait ".encode() + b"\xff\xfe" + b"ok " + b"\xc3") * 8
    ds = text_dataset(data, seq_len=5)
    # per repetition: \xff and \xfe are two bad sequences, a lone \xc3 before 'c' is a third
    assert ds.report["undecodable"] == 24
    assert UNKNOWN_CHAR in ds.vocab and "\u00e9" in ds.vocab
    assert any("undecodable" in n for n in ds.report["notes"])


def test_genuine_replacement_character_is_not_counted_as_undecodable():
    data = ("x\ufffdy " * 30).encode()
    ds = text_dataset(data, seq_len=5)
    assert ds.report["undecodable"] == 0


def test_bom_and_crlf():
    ds = text_dataset(b"\xef\xbb\xbf" + b"line one\r\nline two\r\n" * 5, seq_len=5)
    assert "\r" not in ds.vocab and "\ufeff" not in ds.vocab


@pytest.mark.parametrize(
    ("source", "kwargs", "words"),
    [
        ("", {}, "empty"),
        ("   \n ", {}, "empty"),
        ("short text", {"seq_len": 64}, "too short"),
        (bytes(range(256)) * 4, {}, "NUL"),
        (b"\xff\xfe\xfd" * 200, {}, "does not look like UTF-8"),
        ("abc" * 100, {"max_vocab": 1}, "vocabulary cap"),
        ("abc" * 100, {"seq_len": -1}, "sequence length"),
        (12345, {}, "string or bytes"),
    ],
)
def test_bad_text_inputs(source, kwargs, words):
    with pytest.raises(PlaygroundError, match=words):
        text_dataset(source, **kwargs)


def test_baselines_by_hand_on_a_tiny_string():
    # "abab" + "ab" with val_fraction 1/3 -> train "abab", val "ab"; V = 2
    ds = text_dataset("ababab", seq_len=2, val_fraction=1 / 3)
    assert ds.decode(ds.train_ids) == "abab" and ds.decode(ds.val_ids) == "ab"
    # unigram: a 2, b 2 -> (2+1)/(4+2) = 1/2 for both -> 1 bit per char
    assert ds.baselines["unigram_bpc"] == pytest.approx(1.0)
    # bigram on train: ab 2, ba 1; starts a 2, b 1.
    # 'a' after the last train 'b': (1+1)/(1+2) = 2/3 ; 'b' after 'a': (2+1)/(2+2) = 3/4
    expect = -(math.log2(2 / 3) + math.log2(3 / 4)) / 2
    assert ds.baselines["bigram_bpc"] == pytest.approx(expect, rel=1e-12)


def test_samples_are_sizeable_and_honest():
    zen = TEXT_SAMPLES["Zen of Python"]()
    assert zen.startswith("The Zen of Python") and "Beautiful is better than ugly." in zen
    sizes = {k: len(f()) for k, f in TEXT_SAMPLES.items()}
    assert any(20_000 <= v <= 100_000 for k, v in sizes.items() if "docstrings" in k.lower())
    assert any(20_000 <= v <= 100_000 for k, v in sizes.items() if "grammar" in k.lower())
    for k, f in TEXT_SAMPLES.items():
        assert f() == f(), k  # deterministic
        ds = text_dataset(f(), name=k, seq_len=32)
        assert ds.baselines["bigram_bpc"] < ds.baselines["unigram_bpc"] <= math.log2(ds.vocab_size) + 0.5


def test_zen_sample_prints_nothing(capsys):
    TEXT_SAMPLES["Zen of Python"]()
    assert capsys.readouterr().out == ""


def test_undecodable_bytes_join_the_unknown_bucket_when_capped():
    data = b"aaaa bbb cc d \xff" * 10
    ds = text_dataset(data, seq_len=4, max_vocab=4)
    assert ds.vocab == [" ", "a", "b", UNKNOWN_CHAR]
    assert ds.vocab.count(UNKNOWN_CHAR) == 1
    # c (20), d (10) and the 10 replaced bytes go to the bucket
    assert ds.counts[UNKNOWN_CHAR] == 40 and ds.report["undecodable"] == 10


def test_lone_surrogate_in_a_string_is_an_ordinary_character():
    # Python strings (a paste through an API) may hold unpaired surrogates that no UTF codec
    # encodes strictly; they are characters like any other.
    ds = text_dataset("ab\ud800c" * 50, seq_len=4)
    assert ds.vocab == ["a", "b", "c", "\ud800"]
    np.testing.assert_array_equal(ds.encode("c\ud800a"), [2, 3, 0])
    assert ds.decode(ds.encode("\ud800b")) == "\ud800b"
