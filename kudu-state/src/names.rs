//! One table per enum for the names kudu-state prints: [`named_enum!`] declares the enum, its serde
//! names and `as_str()` from a single list, so JSON, the command's text and both bindings can never
//! disagree on a name.

/// Declares a fieldless enum whose every variant has one stable name: the serde name (JSON), and
/// `as_str()` / `Display` (text). Also `ALL`, every value in declaration order. Extra derives (e.g.
/// `PartialOrd, Ord`) may be added as attributes.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stable name: the same text as in JSON. Part of the API.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use named_enum;
