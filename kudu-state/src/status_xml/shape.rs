//! The shape Kudu writes, read without an XML library: the scan's fast path.
//!
//! Nearly every `status.xml` on a site was written by Kudu's `Save` (or by [`write`](super::write)): a
//! declaration, a root, and one line per element holding plain text. quick-xml's general machinery
//! costs several times what reading those bytes does (an event per tag, a UTF-8 check per event, the
//! attribute and scope checks, a `String` per element). [`read_children`] reads that shape in one pass
//! over the bytes and gives up (`None`) on anything else, which the general reader
//! ([`read_children`](super::read_children)) then decides, errors included.
//!
//! So this reader never decides anything hard: it only has to be right about the documents it
//! accepts, and for those it gives exactly what the general reader gives. That is checked on every
//! parse of a debug build (the whole test suite), by the proptests below and by the fuzzer
//! (`cross_check::parse_general`).
//!
//! The shape (`S` is XML whitespace: space, tab, CR, LF):
//! ```text
//! document := decl? S* '<' name '>' (S* child)* S* '</' name '>' S*
//! decl     := '<?xml version="1.0" encoding="utf-8"?>'      at the very start
//! child    := '<' name ('/>' | ' />' | '>' text '</' name '>')
//! text     := any character but '<', '&' and the C0 controls other than tab, CR and LF, or one of
//!             &lt; &gt; &amp; &apos; &quot;; never "]]>"
//! name     := [A-Za-z_] [A-Za-z0-9_.-]*
//! ```
//! Attributes, comments, processing instructions, CDATA, character references, elements below the
//! root's children and prefixed names are all left to the general reader.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};

use super::{Children, ELEMENTS, Found, first_illegal_char, is_all_xml_ws};

/// The declaration Kudu writes, byte for byte.
const DECL: &[u8] = br#"<?xml version="1.0" encoding="utf-8"?>"#;

/// How [`text_end`] handles a byte of element text that [`next_look`] stopped at (or one of the last
/// few of the document): [`PLAIN`] ones it goes on after.
const PLAIN: u8 = 0;
/// `<`: the text ends.
const END: u8 = 1;
/// `&` (a reference) or `\r` (a line end to normalise): the value is not the text as is.
const COPY: u8 = 2;
/// `>`: fine, unless it closes a `]]>`.
const GT: u8 = 3;
/// The first byte of a non-ASCII character: the text's characters are checked.
const HIGH: u8 = 4;
/// A C0 control other than tab, CR and LF: not well-formed; the general reader says why.
const REFUSE: u8 = 5;

/// [`PLAIN`], [`END`], … for each byte value.
const CLASS: [u8; 256] = {
    let mut class = [PLAIN; 256];
    let mut b = 0;
    while b < 0x20 {
        class[b] = REFUSE;
        b += 1;
    }
    class[b'\t' as usize] = PLAIN;
    class[b'\n' as usize] = PLAIN;
    class[b'\r' as usize] = COPY;
    class[b'&' as usize] = COPY;
    class[b'<' as usize] = END;
    class[b'>' as usize] = GT;
    let mut b = 0x80;
    while b < 0x100 {
        class[b] = HIGH;
        b += 1;
    }
    class
};

/// One element's tags as Kudu writes them, the start tags with the indentation before them (a
/// Windows file has a `\r` before that `\n`).
#[derive(Debug)]
struct Tags {
    /// `\n  <name>`
    open: &'static [u8],
    /// `\n  <name />`
    empty: &'static [u8],
    /// `</name>`
    close: &'static [u8],
}

macro_rules! tags {
    ($($name:literal),* $(,)?) => {
        [$(Tags {
            open: concat!("\n  <", $name, ">").as_bytes(),
            empty: concat!("\n  <", $name, " />").as_bytes(),
            close: concat!("</", $name, ">").as_bytes(),
        }),*]
    };
}

/// [`Tags`] of each element of [`ELEMENTS`], in its order (a test checks they match).
const TAGS: [Tags; 17] = tags!(
    "id",
    "author",
    "deployer",
    "authorEmail",
    "message",
    "progress",
    "status",
    "statusText",
    "lastSuccessEndTime",
    "receivedTime",
    "startTime",
    "endTime",
    "complete",
    "is_temp",
    "is_readonly",
    "project_type",
    "vsproject_id",
);

/// Fills `found` with the known direct children of the root when `text` (BOM already removed) has
/// the shape Kudu writes; `None` when it does not, and the general reader must decide (`found` then
/// holds whatever was read before the reader gave up). `found` is the caller's, so the 17 slots are
/// not copied on the way out.
pub(super) fn read_children<'a>(text: &'a str, found: &mut Children<'a>) -> Option<()> {
    let b = text.as_bytes();
    let mut i = if b.starts_with(DECL) { DECL.len() } else { 0 };
    i = skip_ws(b, i);
    if *b.get(i)? != b'<' {
        return None;
    }
    let root = (i + 1)..name_end(b, i + 1)?;
    if *b.get(root.end)? != b'>' {
        return None;
    }
    i = root.end + 1;
    // Kudu writes the elements in `ELEMENTS` order, so the next one is tried first.
    let mut next = 0;
    loop {
        // Kudu's own layout first: the next element's whole start tag, indentation included, in
        // one comparison (what the general case below finds in several steps).
        if let Some(tags) = TAGS.get(next) {
            let at = i + usize::from(b.get(i) == Some(&b'\r'));
            if has_at(b, at, tags.open) {
                let start = at + tags.open.len();
                let (end, copy, high) = text_end(b, start)?;
                i = end + tags.close.len();
                if !has_at(b, end, tags.close) {
                    return None;
                }
                let value = value(slice(text, start, end)?, copy, high)?;
                keep_first(
                    found,
                    next,
                    Found {
                        self_closing: false,
                        value,
                    },
                );
                next += 1;
                continue;
            }
            if has_at(b, at, tags.empty) {
                i = at + tags.empty.len();
                keep_first(found, next, empty());
                next += 1;
                continue;
            }
        }
        i = skip_ws(b, i);
        if *b.get(i)? != b'<' {
            return None;
        }
        if *b.get(i + 1)? == b'/' {
            i = end_tag(b, i, b.get(root.clone())?)?;
            break;
        }
        let (name, known) = open_name(b, i + 1, next)?;
        let after_name = i + 1 + name.len();
        let (element, after) = match b.get(after_name..)? {
            [b'/', b'>', ..] => (empty(), after_name + 2),
            [b' ', b'/', b'>', ..] => (empty(), after_name + 3),
            [b'>', ..] => {
                let (end, copy, high) = text_end(b, after_name + 1)?;
                let element = Found {
                    self_closing: false,
                    value: value(slice(text, after_name + 1, end)?, copy, high)?,
                };
                (element, end_tag(b, end, name)?)
            }
            _ => return None,
        };
        i = after;
        if let Some(k) = known {
            keep_first(found, k, element);
            next = k + 1;
        }
    }
    (skip_ws(b, i) == b.len()).then_some(())
}

/// Whether `b` holds `tag` at `i`. The tags are 5 to 25 bytes, compared here a word at a time (the
/// last word overlapping the one before it), where a call to `bcmp` would cost more than the
/// comparison itself.
#[inline(always)]
fn has_at(b: &[u8], i: usize, tag: &[u8]) -> bool {
    let Some(here) = b.get(i..i + tag.len()) else {
        return false;
    };
    let n = tag.len();
    let word = |s: &[u8], k: usize| {
        s.get(k..k + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map(u64::from_le_bytes)
    };
    let half = |s: &[u8], k: usize| {
        s.get(k..k + 4)
            .and_then(|w| <[u8; 4]>::try_from(w).ok())
            .map(u32::from_le_bytes)
    };
    match n {
        8.. => {
            let mut k = 0;
            while k + 8 < n {
                if word(here, k) != word(tag, k) {
                    return false;
                }
                k += 8;
            }
            word(here, n - 8) == word(tag, n - 8)
        }
        4..8 => half(here, 0) == half(tag, 0) && half(here, n - 4) == half(tag, n - 4),
        _ => here == tag,
    }
}

/// `text[start..end]`, or `None` when that is not a whole `str`: `split_at_checked` is inlined here
/// where `str::get` is a call, once per element.
#[inline(always)]
fn slice(text: &str, start: usize, end: usize) -> Option<&str> {
    Some(text.split_at_checked(end)?.0.split_at_checked(start)?.1)
}

/// Keeps `element` as the `k`th known child unless one came before: the first of several wins, as
/// `XElement.Element` finds it.
#[inline(always)]
fn keep_first<'a>(found: &mut Children<'a>, k: usize, element: Found<'a>) {
    if let Some(slot @ None) = found.get_mut(k) {
        *slot = Some(element);
    }
}

/// A self-closing element.
fn empty<'a>() -> Found<'a> {
    Found {
        self_closing: true,
        value: Cow::Borrowed(""),
    }
}

/// The name of the element whose tag starts at `start` (after its `<`), and its index in
/// [`ELEMENTS`] if it is one. The element Kudu writes next (`next`) is tried first, which is one
/// comparison instead of a scan of the name and a search of the list: it is that element when its
/// name is followed by what can end a name in the shape (`>`, `/` or a space).
#[inline(always)]
fn open_name(b: &[u8], start: usize, next: usize) -> Option<(&[u8], Option<usize>)> {
    if let Some(expected) = ELEMENTS.get(next).map(|e| e.as_bytes())
        && b.get(start..start + expected.len()) == Some(expected)
        && matches!(b.get(start + expected.len()), Some(b'>' | b'/' | b' '))
    {
        return Some((expected, Some(next)));
    }
    let name = b.get(start..name_end(b, start)?)?;
    Some((name, ELEMENTS.iter().position(|e| e.as_bytes() == name)))
}

/// The index after the whitespace at `i`.
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        i += 1;
    }
    i
}

/// The end of the name that starts at `start` (the shape's ASCII subset of XML names, no prefix).
fn name_end(b: &[u8], start: usize) -> Option<usize> {
    if !matches!(b.get(start)?, b'A'..=b'Z' | b'a'..=b'z' | b'_') {
        return None;
    }
    let mut i = start + 1;
    while b.get(i).is_some_and(|c| is_name_byte(*c)) {
        i += 1;
    }
    Some(i)
}

/// A byte that may follow the first in a name of the shape: `[A-Za-z0-9_.-]`.
fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')
}

/// The index after `</name>` at `i`.
#[inline(always)]
fn end_tag(b: &[u8], i: usize, name: &[u8]) -> Option<usize> {
    let end = i + 2 + name.len();
    (b.get(i..i + 2)? == b"</" && b.get(i + 2..end)? == name && *b.get(end)? == b'>')
        .then_some(end + 1)
}

/// The end of the text starting at `start` (the index of the `<` that ends it), and whether it holds
/// bytes that make its value differ from it (`&`, `\r`) or non-ASCII characters; `None` for text
/// outside the shape.
#[inline(always)]
fn text_end(b: &[u8], start: usize) -> Option<(usize, bool, bool)> {
    let mut i = start;
    let mut copy = false;
    let mut high = false;
    loop {
        i = next_look(b, i);
        match CLASS[usize::from(*b.get(i)?)] {
            PLAIN => {}
            END => return Some((i, copy, high)),
            COPY => copy = true,
            GT if i >= start + 2 && b.get(i - 2..i)? == b"]]" => return None,
            GT => {}
            HIGH => high = true,
            _ => return None,
        }
        i += 1;
    }
}

/// The value of the text `raw`, as `XElement.Value` gives it: the file's text as is unless it has
/// references or CRs, and empty when it is only whitespace (a whitespace-only text node is dropped).
/// `None` when a non-ASCII character is not an XML character or a reference is not one of the five.
#[inline(always)]
fn value(raw: &str, copy: bool, high: bool) -> Option<Cow<'_, str>> {
    if copy || high {
        return unusual_value(raw, copy, high);
    }
    Some(Cow::Borrowed(if is_all_xml_ws(raw) { "" } else { raw }))
}

/// [`value`] of text with references, CRs or non-ASCII characters.
#[cold]
fn unusual_value(raw: &str, copy: bool, high: bool) -> Option<Cow<'_, str>> {
    if high && first_illegal_char(raw).is_some() {
        return None;
    }
    let value = if copy {
        Cow::Owned(unescape(raw)?)
    } else {
        Cow::Borrowed(raw)
    };
    Some(if is_all_xml_ws(&value) {
        Cow::Borrowed("")
    } else {
        value
    })
}

/// The index of the first byte from `i` on that [`text_end`] must look at: one not in `0x20..0x80`,
/// or `<`, `&`, `>`; or `i` when fewer than 8 bytes are left (they are looked at one by one). Kudu's
/// text is mostly other bytes, so they are skipped 8 at a time with a few word operations instead of
/// eight table lookups. The test is the usual "has a zero byte", `(x - 0x01…01) & !x & 0x80…80`: a
/// byte is flagged when it hits, or (through a borrow) when a lower byte hit, so the lowest flagged
/// byte, which `trailing_zeros` finds in the little-endian word, is always a real one. Tabs and LFs
/// are flagged too (they are below 0x20), and [`text_end`] just goes on after them.
#[inline(always)]
fn next_look(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    while let Some(block) = b.get(i..i + 8).and_then(|s| <[u8; 8]>::try_from(s).ok()) {
        let x = u64::from_le_bytes(block);
        // Below 0x20 is "has a zero byte" of `x` with 0x20 subtracted, per byte (0x20 <= 0x80).
        let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        let special = has_zero(x ^ (ONES * u64::from(b'<')))
            | has_zero(x ^ (ONES * u64::from(b'&')))
            | has_zero(x ^ (ONES * u64::from(b'>')));
        let look = control | special | (x & HIGH);
        if look != 0 {
            // The flag is the top bit of its byte: bits 7, 15, … for bytes 0, 1, …
            return i + (look.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i
}

/// Text with the predefined entities resolved and line ends normalised; `None` for any other
/// reference. Line ends are normalised in the text between references only, as quick-xml's
/// `xml10_content` does for each text event: a `\r` that a reference produced would stay (none of
/// these five produces one).
fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    loop {
        let Some((text, after)) = rest.split_once('&') else {
            push_normalised(&mut out, rest);
            return Some(out);
        };
        push_normalised(&mut out, text);
        let (name, after) = after.split_once(';')?;
        out.push(match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "apos" => '\'',
            "quot" => '"',
            _ => return None,
        });
        rest = after;
    }
}

/// `\r\n` and a lone `\r` become `\n` (XML 1.0 §2.11).
fn push_normalised(out: &mut String, text: &str) {
    let mut parts = text.split('\r');
    out.push_str(parts.next().unwrap_or_default());
    for part in parts {
        out.push('\n');
        out.push_str(part.strip_prefix('\n').unwrap_or(part));
    }
}

/// A date in the form Kudu writes (`XmlConvert`'s round-trip form of a UTC time,
/// `yyyy-MM-ddTHH:mm:ss[.f{1,7}]Z`), with the value [`dotnet_time::parse_lenient`] gives it; `None`
/// for any other form (and for an impossible date), which `parse_lenient` then decides.
///
/// Up to seven fraction digits are whole ticks, which is exactly what `parse_lenient`'s `f64`
/// arithmetic rounds them to; a year 0 is left to it too. (A test checks the two agree.)
///
/// [`dotnet_time::parse_lenient`]: crate::dotnet_time::parse_lenient
pub(super) fn kudu_date(s: &str) -> Option<DateTime<Utc>> {
    let (head, tail) = s.as_bytes().split_at_checked(19)?;
    // `yyyy-MM-ddTHH:mm:ss` as three words (bytes 0..8, 8..16 and 11..19). XOR with the form's
    // bytes leaves each digit's value (0..=9) in its byte, and 0 at each separator that is there;
    // a byte is then in range when it and its sum with 0x76 (0x7F at a separator) stay below 0x80.
    // No sum carries, as both terms are below 0x80 when the first test passes.
    const FORM: [&[u8; 8]; 3] = [b"0000-00-", b"00T00:00", b"00:00:00"];
    const LIMIT: [[u8; 8]; 3] = [
        [0x76, 0x76, 0x76, 0x76, 0x7F, 0x76, 0x76, 0x7F],
        [0x76, 0x76, 0x7F, 0x76, 0x76, 0x7F, 0x76, 0x76],
        [0x76, 0x76, 0x7F, 0x76, 0x76, 0x7F, 0x76, 0x76],
    ];
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    let mut words = [0_u64; 3];
    for (k, at) in [0, 8, 11].into_iter().enumerate() {
        let bytes: [u8; 8] = head.get(at..at + 8)?.try_into().ok()?;
        let value = u64::from_le_bytes(bytes) ^ u64::from_le_bytes(*FORM[k]);
        if (value | value.wrapping_add(u64::from_le_bytes(LIMIT[k]))) & HIGH != 0 {
            return None;
        }
        words[k] = value;
    }
    let digit = |word: u64, byte: u32| ((word >> (8 * byte)) & 0xFF) as u32;
    let two = |word: u64, byte: u32| digit(word, byte) * 10 + digit(word, byte + 1);
    let [date, time, seconds] = words;
    let year = two(date, 0) * 100 + two(date, 2);
    let ticks = match tail {
        [b'Z'] => 0,
        [b'.', fraction @ .., b'Z'] if (1..=7).contains(&fraction.len()) => {
            let mut ticks = 0;
            for c in fraction {
                let d = u32::from(c.wrapping_sub(b'0'));
                if d > 9 {
                    return None;
                }
                ticks = ticks * 10 + d;
            }
            // `fraction.len()` is 1..=7.
            ticks * 10_u32.pow(7 - fraction.len() as u32)
        }
        _ => return None,
    };
    if year == 0 {
        return None;
    }
    let time = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, two(date, 5), two(time, 0))?
        .and_hms_nano_opt(two(time, 3), two(time, 6), two(seconds, 6), ticks * 100)?;
    Some(time.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dotnet_time::parse_lenient;
    use crate::platform::Platform;
    use crate::status_xml::{BOM, read_children as general};
    use proptest::prelude::*;

    /// The shape reader's answer, checked against the general reader's whenever it has one.
    fn agreed(text: &str) -> Option<Children<'_>> {
        let mut shape = Children::default();
        read_children(text, &mut shape)?;
        assert_eq!(general(text).as_ref(), Ok(&shape), "{text:?}");
        Some(shape)
    }

    fn value<'a>(children: &'a Children<'_>, name: &str) -> Option<(bool, &'a str)> {
        let i = ELEMENTS.iter().position(|e| *e == name)?;
        children[i]
            .as_ref()
            .map(|f| (f.self_closing, f.value.as_ref()))
    }

    #[test]
    fn tags_are_those_of_the_elements() {
        for (tags, name) in TAGS.iter().zip(ELEMENTS) {
            assert_eq!(tags.open, format!("\n  <{name}>").as_bytes());
            assert_eq!(tags.empty, format!("\n  <{name} />").as_bytes());
            assert_eq!(tags.close, format!("</{name}>").as_bytes());
        }
    }

    #[test]
    fn reads_what_kudu_writes() {
        let text = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<deployment>\r\n  \
            <id>abc</id>\r\n  <author />\r\n  <message>a &amp; b\r\nc</message>\r\n  \
            <progress> \r\n </progress>\r\n  <status>Success</status>\r\n</deployment>";
        let c = agreed(text).expect("in shape");
        assert_eq!(value(&c, "id"), Some((false, "abc")));
        assert_eq!(value(&c, "author"), Some((true, "")));
        assert_eq!(value(&c, "message"), Some((false, "a & b\nc")));
        assert_eq!(value(&c, "progress"), Some((false, "")));
        assert_eq!(value(&c, "deployer"), None);
        assert!(matches!(
            c[0].as_ref().map(|f| &f.value),
            Some(Cow::Borrowed(_))
        ));
    }

    #[test]
    fn leaves_everything_else_to_the_general_reader() {
        for text in [
            "<d a=\"1\"><id>x</id></d>",
            "<d><id>x<!-- c --></id></d>",
            "<d><id><![CDATA[x]]></id></d>",
            "<d><id>&#65;</id></d>",
            "<d><id>&bogus;</id></d>",
            "<d><id>a & b</id></d>",
            "<d><id>]]></id></d>",
            "<d><id>\u{1}</id></d>",
            "<d><id>\u{FFFE}</id></d>",
            "<d><id><b>x</b></id></d>",
            "<d><x:id>x</x:id></d>",
            "<d><id >x</id></d>",
            "<d><id>x</id ></d>",
            "<d><id>x</di></d>",
            "<d><id>x</id></d><e/>",
            "<d><id>x</id></d>text",
            "<d><id>x</id>",
            "<d/>",
            " <?xml version=\"1.0\" encoding=\"utf-8\"?><d/>",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><d></d>",
            "\u{FEFF}<d></d>",
            "<!DOCTYPE d><d></d>",
            "<d>text<id>x</id></d>",
        ] {
            assert!(
                read_children(text, &mut Children::default()).is_none(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn dates_kudu_writes_read_as_parse_lenient_reads_them() {
        for s in [
            "2024-09-04T10:33:19Z",
            "2024-09-04T10:33:19.8Z",
            "2024-09-04T10:33:19.0456123Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.9999999Z",
            "2024-02-29T00:00:00.5Z",
        ] {
            assert_eq!(kudu_date(s), parse_lenient(s), "{s}");
            assert!(kudu_date(s).is_some(), "{s}");
        }
        for s in [
            "0000-01-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-09-04T10:33:60Z",
            "2024-09-04T24:00:00Z",
            "2024-09-04T10:33:19.12345678Z",
            "2024-09-04T10:33:19.Z",
            "2024-09-04T10:33:19",
            "2024-09-04t10:33:19z",
            "2024-09-04 10:33:19Z",
            " 2024-09-04T10:33:19Z",
            "2024-09-04T10:33:19+00:00",
            "2024-9-04T10:33:19Z",
            "2024-09-04T10:33:1xZ",
        ] {
            assert_eq!(kudu_date(s), None, "{s}");
        }
    }

    proptest! {
        /// Every field of the form, in and out of range, and every fraction length: where the fast
        /// reader answers, `parse_lenient` answers the same.
        #[test]
        fn kudu_date_agrees_with_parse_lenient(
            y in 0u32..10000, mo in 0u32..14, d in 0u32..33, h in 0u32..25, mi in 0u32..61,
            s in 0u32..61, fraction in proptest::option::of("[0-9]{1,9}"), z in "[Zz]?",
        ) {
            let mut text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
            if let Some(f) = &fraction {
                text.push('.');
                text.push_str(f);
            }
            text.push_str(&z);
            if let Some(fast) = kudu_date(&text) {
                prop_assert_eq!(Some(fast), parse_lenient(&text), "{}", text);
            } else {
                let in_form = z == "Z" && fraction.as_ref().is_none_or(|f| f.len() <= 7);
                // In the form, only an impossible date is left over, and parse_lenient refuses it too.
                prop_assert!(!in_form || parse_lenient(&text).is_none(), "{}", text);
            }
        }

        #[test]
        fn kudu_date_agrees_on_any_text(s in "[0-9TZ:.+ -]{0,32}") {
            if let Some(fast) = kudu_date(&s) {
                prop_assert_eq!(Some(fast), parse_lenient(&s));
            }
        }

        /// Whatever the writer writes has the shape, on both platforms.
        #[test]
        fn what_the_writer_writes_has_the_shape(
            (doc, platform) in crate::status_xml::tests::doc_and_platform(),
        ) {
            let bytes = crate::status_xml::write(&doc, platform);
            let text = std::str::from_utf8(bytes.strip_prefix(BOM).unwrap_or(&bytes)).unwrap_or("");
            prop_assert!(agreed(text).is_some(), "{:?} on {:?}", text, platform);
            prop_assert!(platform == Platform::Windows || !text.contains('\r'));
        }

        /// Near-shape text: where the shape reader answers, the general reader agrees.
        #[test]
        fn agrees_on_xmlish_text(
            body in "([ \r\n\t]|<id>|</id>|<status>|</status>|<author/>|<author />|<message>|</message>|&amp;|&lt;|&#32;|&|]]>|>|x|é|\u{1}|<x>|</x>|<!--c-->){0,24}",
        ) {
            let text = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<deployment>{body}</deployment>\n");
            let _ = agreed(&text);
        }
    }
}
