import regex
from hypothesis import given
from hypothesis import strategies as st

from publisher.render.text import hashtag, hashtags, measure, slugify, strip_diacritics, truncate

VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợ"
    "ùúủũụừứửữựỳýỷỹỵĐÂĂÊÔƠƯ"
)
texts = st.text(
    alphabet=st.sampled_from(list(VIETNAMESE + "  .,:;!?-–\n👍🏽😀0123456789")), max_size=400
)


@given(texts, st.integers(min_value=1, max_value=300), st.sampled_from(["chars", "bytes", "utf16"]))
def test_truncate_fits_and_never_splits_a_grapheme(text: str, limit: int, unit: str) -> None:
    cut = truncate(text, limit, unit)  # type: ignore[arg-type]
    assert measure(cut, unit) <= limit  # type: ignore[arg-type]
    if cut == text:
        return
    kept = cut.removesuffix("…")
    assert text.startswith(kept)
    clusters = regex.findall(r"\X", text)
    boundaries = {len("".join(clusters[:i])) for i in range(len(clusters) + 1)}
    assert len(kept) in boundaries


def test_truncate_prefers_word_boundaries() -> None:
    assert truncate("Bảo hiểm xã hội tự nguyện là chính sách", 20) == "Bảo hiểm xã hội tự…"
    assert truncate("Bảo hiểm xã hội tự nguyện", 20, "bytes") == "Bảo hiểm xã…"
    assert truncate("Ngắn", 20) == "Ngắn"


@given(texts)
def test_slugs_are_ascii_words(text: str) -> None:
    slug = slugify(text)
    assert regex.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
    assert len(slug) <= 80


def test_vietnamese_slugs_and_hashtags() -> None:
    assert slugify("BHXH tự nguyện – điểm tựa cho tuổi già: Đắk Lắk") == (
        "bhxh-tu-nguyen-diem-tua-cho-tuoi-gia-dak-lak"
    )
    assert strip_diacritics("Đường Phố Hồ Chí Minh") == "Duong Pho Ho Chi Minh"
    assert hashtag("BHXH tự nguyện") == "#BHXHTuNguyen"
    assert hashtags(["BHYT hộ gia đình", "#BHYT", "bhyt hộ gia đình", "an sinh"], limit=2) == [
        "#BHYTHoGiaDinh",
        "#BHYT",
    ]


@given(st.lists(texts, max_size=6))
def test_hashtags_are_plain_and_unique(tags: list[str]) -> None:
    found = hashtags(tags)
    assert all(regex.fullmatch(r"#[A-Za-z0-9]+", tag) for tag in found)
    assert len({t.lower() for t in found}) == len(found)
