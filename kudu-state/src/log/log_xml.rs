//! The legacy `log.xml` (spec §6.2), as far as the self-heal needs it: Kudu appends its error entry there
//! instead of to `log.log` when a record still has one (`GetLogger` in `DeploymentManager.cs`, both
//! platforms), by loading the document, adding an `<entry>` and saving it whole (`XmlLogger.Log`).
//!
//! `XDocument.Load` drops whitespace between elements and `Save` re-indents, so the file Kudu leaves is the
//! document re-serialised, not the old bytes plus an entry. This module does the same for the documents
//! Kudu writes (elements, attributes, text); a file that is not well-formed XML, or holds comments,
//! processing instructions or a DOCTYPE, is rejected: Kudu would then start a new document with just its
//! entry (dropping the old entries), which kudu-state does not imitate without a person deciding.

use std::fmt::Write as _;

use quick_xml::XmlVersion;
use quick_xml::events::Event;

use crate::platform::Platform;

/// One element: name, attributes in document order, children.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Element(Element),
    Text(String),
}

/// The entry Kudu's `XmlLogger.Log` adds: `<entry time id type><message/></entry>` (type as a number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogXmlEntry {
    /// `time`, already in `XmlConvert`'s round-trip form (`dotnet_time::format_xs`).
    pub time: String,
    /// `id`: a dashed GUID.
    pub id: String,
    /// `type`: 0 message, 1 warning, 2 error.
    pub kind: u8,
    /// The message (already sanitised).
    pub message: String,
}

/// `bytes` (a `log.xml`) with `entry` appended to its root, saved as `XDocument.Save` writes it on
/// `platform`: UTF-8 with BOM, the XML declaration, two-space indentation, the platform's newline.
///
/// # Errors
/// Why the document is not one this module re-serialises faithfully, for a person.
pub(crate) fn append_entry(
    bytes: &[u8],
    entry: &LogXmlEntry,
    platform: Platform,
) -> Result<Vec<u8>, String> {
    let mut root = parse(bytes)?;
    root.children.push(Node::Element(Element {
        name: "entry".to_owned(),
        attributes: vec![
            ("time".to_owned(), entry.time.clone()),
            ("id".to_owned(), entry.id.clone()),
            ("type".to_owned(), entry.kind.to_string()),
        ],
        children: vec![Node::Element(Element {
            name: "message".to_owned(),
            attributes: Vec::new(),
            children: vec![Node::Text(entry.message.clone())],
        })],
    }));
    let nl = platform.newline();
    let mut out = String::from("\u{FEFF}<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    out.push_str(nl);
    write_element(&mut out, &root, 0, nl);
    Ok(out.into_bytes())
}

/// Parses a document as `XDocument.Load` keeps it (whitespace-only text between elements dropped).
fn parse(bytes: &[u8]) -> Result<Element, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 ({e})"))?;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("not well-formed XML ({e})"))?;
        match event {
            Event::Decl(_) => {}
            Event::Start(e) | Event::Empty(e) if root.is_some() => {
                return Err(format!(
                    "content after the root element (`{}`)",
                    e.name().into_inner()
                ));
            }
            Event::Start(e) => stack.push(element(&e)?),
            Event::Empty(e) => {
                let el = element(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(el)),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or("an end tag without a start")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(el)),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content())?,
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match r.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => return Err(format!("unknown entity `&{other};`")),
                    },
                    Err(e) => return Err(format!("bad character reference ({e})")),
                };
                push_text(&mut stack, c.encode_utf8(&mut [0; 4]))?;
            }
            Event::CData(c) => push_text(&mut stack, &c.xml10_content())?,
            Event::Eof => break,
            Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {
                return Err(
                    "comments, processing instructions and DOCTYPEs are not modelled".to_owned(),
                );
            }
        }
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".to_owned());
    }
    root.ok_or_else(|| "no root element".to_owned())
}

fn element(e: &quick_xml::events::BytesStart<'_>) -> Result<Element, String> {
    let name = e.name().into_inner().to_owned();
    let mut attributes = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| format!("bad attribute ({e})"))?;
        let key = a.key.into_inner().to_owned();
        let value = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| format!("bad attribute value ({e})"))?
            .into_owned();
        attributes.push((key, value));
    }
    Ok(Element {
        name,
        attributes,
        children: Vec::new(),
    })
}

/// Adds text to the open element, merging with text before it (an entity splits a text run).
fn push_text(stack: &mut [Element], t: &str) -> Result<(), String> {
    let Some(parent) = stack.last_mut() else {
        return if t.chars().all(char::is_whitespace) {
            Ok(())
        } else {
            Err("text outside the root element".to_owned())
        };
    };
    if let Some(Node::Text(prev)) = parent.children.last_mut() {
        prev.push_str(t);
    } else {
        parent.children.push(Node::Text(t.to_owned()));
    }
    Ok(())
}

/// Drops whitespace-only text from elements that also hold elements (what `LoadOptions.None` keeps).
fn significant(children: &[Node]) -> Vec<&Node> {
    let has_elements = children.iter().any(|c| matches!(c, Node::Element(_)));
    children
        .iter()
        .filter(|c| match c {
            Node::Text(t) => !(has_elements && t.chars().all(char::is_whitespace)),
            Node::Element(_) => true,
        })
        .collect()
}

/// Writes as `XmlWriter` with `Indent = true`: an element holding only elements puts each child on its
/// own indented line; once an element holds text, its content is written as is (mixed content is never
/// re-indented); an element with no content is `<x />`.
fn write_element(out: &mut String, el: &Element, depth: usize, nl: &str) {
    out.push('<');
    out.push_str(&el.name);
    for (k, v) in &el.attributes {
        let _ = write!(out, " {k}=\"{}\"", escape(v, true, nl));
    }
    let children = significant(&el.children);
    if children.is_empty() {
        out.push_str(" />");
        return;
    }
    out.push('>');
    if children.iter().any(|c| matches!(c, Node::Text(_))) {
        for c in children {
            write_inline(out, c, nl);
        }
    } else {
        for c in &children {
            out.push_str(nl);
            out.push_str(&"  ".repeat(depth + 1));
            if let Node::Element(e) = c {
                write_element(out, e, depth + 1, nl);
            }
        }
        out.push_str(nl);
        out.push_str(&"  ".repeat(depth));
    }
    let _ = write!(out, "</{}>", el.name);
}

fn write_inline(out: &mut String, node: &Node, nl: &str) {
    match node {
        Node::Text(t) => out.push_str(&escape(t, false, nl)),
        Node::Element(e) => {
            out.push('<');
            out.push_str(&e.name);
            for (k, v) in &e.attributes {
                let _ = write!(out, " {k}=\"{}\"", escape(v, true, nl));
            }
            if e.children.is_empty() {
                out.push_str(" />");
            } else {
                out.push('>');
                for c in &e.children {
                    write_inline(out, c, nl);
                }
                let _ = write!(out, "</{}>", e.name);
            }
        }
    }
}

/// `XmlWriter`'s escaping: `&`, `<`, `>` always; in attributes also `"` and line breaks and tabs as
/// character references; in text, line breaks become the platform newline (`NewLineHandling.Replace`).
fn escape(s: &str, attribute: bool, nl: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\t' if attribute => out.push_str("&#x9;"),
            '\n' if attribute => out.push_str("&#xA;"),
            '\r' if attribute => out.push_str("&#xD;"),
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str(nl);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> LogXmlEntry {
        LogXmlEntry {
            time: "2024-09-04T10:00:00Z".to_owned(),
            id: "0a1b2c3d-0000-4000-8000-000000000001".to_owned(),
            kind: 2,
            message: "An unknown error has occurred. Check the diagnostic log for details."
                .to_owned(),
        }
    }

    /// Bytes written by hand from spec §6.2 and .NET's `XDocument.Save` defaults.
    #[test]
    fn appends_to_a_kudu_log_xml_and_re_indents_it_as_kudu_saves_it() {
        let old = "\u{FEFF}<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<entries>\r\n  <entry time=\"2014-05-01T10:00:00.5Z\" id=\"11111111-2222-3333-4444-555555555555\" type=\"0\">\r\n    <message>Updating &amp; deploying</message>\r\n    <entry time=\"2014-05-01T10:00:01Z\" id=\"66666666-2222-3333-4444-555555555555\" type=\"1\"><message>npm WARN</message></entry>\r\n  </entry>\r\n</entries>";
        let got = append_entry(old.as_bytes(), &entry(), Platform::Windows).expect("appends");
        let want = "\u{FEFF}<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<entries>\r\n  <entry time=\"2014-05-01T10:00:00.5Z\" id=\"11111111-2222-3333-4444-555555555555\" type=\"0\">\r\n    <message>Updating &amp; deploying</message>\r\n    <entry time=\"2014-05-01T10:00:01Z\" id=\"66666666-2222-3333-4444-555555555555\" type=\"1\">\r\n      <message>npm WARN</message>\r\n    </entry>\r\n  </entry>\r\n  <entry time=\"2024-09-04T10:00:00Z\" id=\"0a1b2c3d-0000-4000-8000-000000000001\" type=\"2\">\r\n    <message>An unknown error has occurred. Check the diagnostic log for details.</message>\r\n  </entry>\r\n</entries>";
        assert_eq!(String::from_utf8(got).expect("utf-8"), want);
    }

    #[test]
    fn an_empty_root_gets_the_entry_with_linux_newlines() {
        let got = append_entry(b"<entries />", &entry(), Platform::Linux).expect("appends");
        let want = "\u{FEFF}<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<entries>\n  <entry time=\"2024-09-04T10:00:00Z\" id=\"0a1b2c3d-0000-4000-8000-000000000001\" type=\"2\">\n    <message>An unknown error has occurred. Check the diagnostic log for details.</message>\n  </entry>\n</entries>";
        assert_eq!(String::from_utf8(got).expect("utf-8"), want);
    }

    #[test]
    fn documents_it_cannot_keep_faithfully_are_refused() {
        for bad in [
            &b""[..],
            b"<entries>",
            b"<entries><!-- c --></entries>",
            b"<entries/><more/>",
            b"\xff\xfe",
        ] {
            assert!(
                append_entry(bad, &entry(), Platform::Linux).is_err(),
                "{bad:?}"
            );
        }
    }
}
