//! [`StatusDoc`]: a parsed `status.xml` as a [`Snapshot`](crate::Snapshot) keeps it.
//!
//! A neglected site has 100,000 record folders, and a snapshot holds every record's document. As a
//! [`StatusXml`] one costs ~340 bytes of fields plus one allocation per text element; here the text
//! elements share one allocation and the rest are plain values, so a document costs about half.
//! [`StatusXml`] stays the form to build, edit and write documents in; [`StatusDoc::to_status_xml`]
//! gives it back unchanged, and a `StatusDoc` serializes exactly as its `StatusXml` does.

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use super::{DeployStatus, Parsed, StatusXml};

/// The text elements, in the order they are packed.
#[derive(Debug, Clone, Copy)]
enum Element {
    Id,
    Author,
    Deployer,
    AuthorEmail,
    Message,
    Progress,
    StatusText,
    ProjectType,
    VsprojectId,
    StatusUnrecognised,
}

const TEXTS: usize = 10;

/// A parsed `status.xml`, compact. Read it with the accessors (text) and fields (everything else).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusDoc {
    /// Every text element present, one after another.
    text: Box<str>,
    /// Where each text element ends in `text`; it starts where the one before it ends.
    ends: [u32; TEXTS],
    /// Bit `i` set when text element `i` is present (`Some`).
    present: u16,
    /// [`StatusXml::missing`]: almost always empty, and then it does not allocate.
    missing: Vec<String>,
    /// `<status>`.
    pub status: DeployStatus,
    /// `<lastSuccessEndTime>`.
    pub last_success_end_time: Option<DateTime<Utc>>,
    /// `<receivedTime>`.
    pub received_time: DateTime<Utc>,
    /// `<startTime>`.
    pub start_time: DateTime<Utc>,
    /// `<endTime>`.
    pub end_time: Option<DateTime<Utc>>,
    /// `<complete>`.
    pub complete: bool,
    /// `<is_temp>`.
    pub is_temp: bool,
    /// `<is_readonly>`.
    pub is_readonly: bool,
}

impl From<StatusXml> for StatusDoc {
    fn from(doc: StatusXml) -> StatusDoc {
        let (text, ends, present) = pack([
            Some(doc.id.as_str()),
            doc.author.as_deref(),
            doc.deployer.as_deref(),
            doc.author_email.as_deref(),
            doc.message.as_deref(),
            doc.progress.as_deref(),
            doc.status_text.as_deref(),
            doc.project_type.as_deref(),
            doc.vsproject_id.as_deref(),
            doc.status_unrecognised.as_deref(),
        ]);
        StatusDoc {
            text,
            ends,
            present,
            missing: doc.missing,
            status: doc.status,
            last_success_end_time: doc.last_success_end_time,
            received_time: doc.received_time,
            start_time: doc.start_time,
            end_time: doc.end_time,
            complete: doc.complete,
            is_temp: doc.is_temp,
            is_readonly: doc.is_readonly,
        }
    }
}

/// What the scan keeps: the text elements go from the file (where [`Parsed`] borrows them) into the
/// packed text directly, without a [`StatusXml`]'s one allocation per element in between. Packed as
/// [`From<StatusXml>`] packs, so the two give equal documents.
impl From<Parsed<'_>> for StatusDoc {
    fn from(doc: Parsed<'_>) -> StatusDoc {
        let (text, ends, present) = pack([
            Some(&*doc.id),
            doc.author.as_deref(),
            doc.deployer.as_deref(),
            doc.author_email.as_deref(),
            doc.message.as_deref(),
            doc.progress.as_deref(),
            doc.status_text.as_deref(),
            doc.project_type.as_deref(),
            doc.vsproject_id.as_deref(),
            doc.status_unrecognised.as_deref(),
        ]);
        StatusDoc {
            text,
            ends,
            present,
            missing: doc.missing,
            status: doc.status,
            last_success_end_time: doc.last_success_end_time,
            received_time: doc.received_time,
            start_time: doc.start_time,
            end_time: doc.end_time,
            complete: doc.complete,
            is_temp: doc.is_temp,
            is_readonly: doc.is_readonly,
        }
    }
}

/// The text elements (in [`Element`] order) one after another, where each ends, and which are present.
fn pack(texts: [Option<&str>; TEXTS]) -> (Box<str>, [u32; TEXTS], u16) {
    let mut text = String::with_capacity(texts.iter().flatten().map(|t| t.len()).sum());
    let mut ends = [0; TEXTS];
    let mut present = 0;
    for (i, t) in texts.iter().enumerate() {
        if let Some(t) = t {
            text.push_str(t);
            present |= 1 << i;
        }
        // A status.xml is read under a 1 MiB cap, so its text always fits.
        ends[i] = u32::try_from(text.len()).unwrap_or(u32::MAX);
    }
    (text.into_boxed_str(), ends, present)
}

impl StatusDoc {
    fn element(&self, e: Element) -> Option<&str> {
        let i = e as usize;
        if self.present & (1 << i) == 0 {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.get(start as usize..self.ends[i] as usize)
    }

    /// `<id>`.
    #[must_use]
    pub fn id(&self) -> &str {
        self.element(Element::Id).unwrap_or_default()
    }

    /// `<author>`.
    #[must_use]
    pub fn author(&self) -> Option<&str> {
        self.element(Element::Author)
    }

    /// `<deployer>`.
    #[must_use]
    pub fn deployer(&self) -> Option<&str> {
        self.element(Element::Deployer)
    }

    /// `<authorEmail>`.
    #[must_use]
    pub fn author_email(&self) -> Option<&str> {
        self.element(Element::AuthorEmail)
    }

    /// `<message>`.
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        self.element(Element::Message)
    }

    /// `<progress>`.
    #[must_use]
    pub fn progress(&self) -> Option<&str> {
        self.element(Element::Progress)
    }

    /// `<statusText>`.
    #[must_use]
    pub fn status_text(&self) -> Option<&str> {
        self.element(Element::StatusText)
    }

    /// `<project_type>` (Windows).
    #[must_use]
    pub fn project_type(&self) -> Option<&str> {
        self.element(Element::ProjectType)
    }

    /// `<vsproject_id>` (Windows).
    #[must_use]
    pub fn vsproject_id(&self) -> Option<&str> {
        self.element(Element::VsprojectId)
    }

    /// [`StatusXml::missing`].
    #[must_use]
    pub fn missing(&self) -> &[String] {
        &self.missing
    }

    /// [`StatusXml::status_unrecognised`].
    #[must_use]
    pub fn status_unrecognised(&self) -> Option<&str> {
        self.element(Element::StatusUnrecognised)
    }

    /// [`StatusXml::unsavable_reason`].
    #[must_use]
    pub fn unsavable_reason(&self) -> Option<String> {
        super::unsavable_reason(self.id(), &self.missing)
    }

    /// The document as a [`StatusXml`], to edit or write.
    #[must_use]
    pub fn to_status_xml(&self) -> StatusXml {
        let owned = |e| self.element(e).map(str::to_owned);
        StatusXml {
            id: self.id().to_owned(),
            author: owned(Element::Author),
            deployer: owned(Element::Deployer),
            author_email: owned(Element::AuthorEmail),
            message: owned(Element::Message),
            progress: owned(Element::Progress),
            status: self.status,
            status_text: owned(Element::StatusText),
            last_success_end_time: self.last_success_end_time,
            received_time: self.received_time,
            start_time: self.start_time,
            end_time: self.end_time,
            complete: self.complete,
            is_temp: self.is_temp,
            is_readonly: self.is_readonly,
            project_type: owned(Element::ProjectType),
            vsproject_id: owned(Element::VsprojectId),
            missing: self.missing.clone(),
            status_unrecognised: owned(Element::StatusUnrecognised),
        }
    }
}

impl Serialize for StatusDoc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_status_xml().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn doc(texts: [Option<String>; 9], missing: Vec<String>) -> StatusXml {
        let [
            author,
            deployer,
            author_email,
            message,
            progress,
            status_text,
            project_type,
            vsproject_id,
            unrecognised,
        ] = texts;
        let at = DateTime::from_timestamp(1_725_000_000, 0).unwrap_or_default();
        StatusXml {
            id: "8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b".to_owned(),
            author,
            deployer,
            author_email,
            message,
            progress,
            status: DeployStatus::Failed,
            status_text,
            last_success_end_time: None,
            received_time: at,
            start_time: at,
            end_time: Some(at),
            complete: true,
            is_temp: false,
            is_readonly: true,
            project_type,
            vsproject_id,
            missing,
            status_unrecognised: unrecognised,
        }
    }

    proptest! {
        /// Packing loses nothing: `None`, `Some("")`, any text, in any element.
        #[test]
        fn packs_and_unpacks_to_the_same_document(
            texts in proptest::array::uniform9(proptest::option::of(".{0,12}")),
            missing in proptest::collection::vec("[a-z]{1,8}", 0..3),
        ) {
            let original = doc(texts, missing);
            let packed = StatusDoc::from(original.clone());
            prop_assert_eq!(packed.author(), original.author.as_deref());
            prop_assert_eq!(packed.progress(), original.progress.as_deref());
            prop_assert_eq!(packed.vsproject_id(), original.vsproject_id.as_deref());
            prop_assert_eq!(packed.unsavable_reason(), original.unsavable_reason());
            prop_assert_eq!(
                serde_json::to_value(&packed).ok(),
                serde_json::to_value(&original).ok()
            );
            prop_assert_eq!(packed.to_status_xml(), original);
        }
    }

    #[test]
    fn is_at_most_half_the_document_it_packs() {
        assert!(std::mem::size_of::<StatusDoc>() <= std::mem::size_of::<StatusXml>() / 2);
    }
}
