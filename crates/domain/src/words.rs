//! Values that are stored and exchanged as words and shown to people by a Chinese label.
//!
//! [`words!`](crate::words) declares such an enum once: each variant with its word (the exchange
//! formats' and the database's) and its label (what a page shows). It gives `ALL`, `as_str`,
//! `parse`, `label` and `TryFrom<String>`, so the store reads a stored word typed at its edge
//! and an unknown word is an error there, once.

/// A stored or sent word that is not one of a kind's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{word}”不是{kind}的取值")]
pub struct UnknownWord {
    /// The kind, as a person names it (状态, 渠道, …).
    pub kind: &'static str,
    pub word: String,
}

/// A value stored and exchanged as a word.
pub trait Word {
    fn word(&self) -> std::borrow::Cow<'static, str>;
}

/// Declares an enum of words:
///
/// ```
/// oversight_domain::words! {
///     /// How loud.
///     #[derive(Debug, Clone, Copy, PartialEq, Eq)]
///     pub enum Volume as "音量" {
///         /// Barely heard.
///         Low = "low" / "低",
///         High = "high" / "高",
///     }
/// }
/// assert_eq!(Volume::parse("high"), Some(Volume::High));
/// assert_eq!(Volume::Low.label(), "低");
/// assert!(Volume::try_from("loud".to_string()).is_err());
/// ```
#[macro_export]
macro_rules! words {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident as $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $word:literal / $label:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in the order declared.
            pub const ALL: [$name; [$($word),+].len()] = [$($name::$variant),+];

            /// The word stored and exchanged.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $word, )+
                }
            }

            /// The word a page shows.
            pub fn label(self) -> &'static str {
                match self {
                    $( $name::$variant => $label, )+
                }
            }

            pub fn parse(s: &str) -> ::core::option::Option<$name> {
                match s {
                    $( $word => ::core::option::Option::Some($name::$variant), )+
                    _ => ::core::option::Option::None,
                }
            }
        }

        impl $crate::words::Word for $name {
            fn word(&self) -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(self.as_str())
            }
        }

        impl ::core::convert::TryFrom<::std::string::String> for $name {
            type Error = $crate::words::UnknownWord;

            fn try_from(word: ::std::string::String) -> ::core::result::Result<$name, Self::Error> {
                $name::parse(&word).ok_or($crate::words::UnknownWord { kind: $kind, word })
            }
        }
    };
}
