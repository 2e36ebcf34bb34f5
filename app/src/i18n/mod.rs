//! Every word a person reads, in their language.
//!
//! The words live in Fluent files, one per language: `app/locales/<code>/gatehouse.ftl`
//! (Mozilla's format: plurals, variables and grammatical cases are the translator's
//! business, not the code's), read by `fluent-bundle`, Fluent's own implementation.
//! They are compiled into both the server and the wasm bundle, so a page renders in its
//! language on the server and hydrates without a flash.
//!
//! A page asks for dozens of messages, so lookups must cost next to nothing: each
//! language's bundle is built once, every message without variables is formatted once,
//! then served from a table, and a message made only of text and variables (a date) is
//! taken apart once into a [`Template`] that is filled in without Fluent's resolver.
//!
//! Which language a request gets is decided once ([`Language::negotiate`]): the reader's
//! choice (the `language` cookie, set by the footer's switcher), else the browser's
//! `Accept-Language`, else English. The server puts it in `<html lang>`, the browser
//! reads it back from there, and server functions negotiate it from the same headers,
//! so error messages speak the page's language too.
//!
//! This module is plain Rust (no Leptos, no axum): the domain and the mail renderer use
//! it as well. The Leptos side is in [`ui`]. ARCHITECTURE: "Languages".

pub mod ui;

use std::collections::HashMap;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};

/// Each language's Fluent file, compiled in.
const SOURCES: [(Language, &str); 2] = [
    (Language::En, include_str!("../../locales/en/gatehouse.ftl")),
    (Language::De, include_str!("../../locales/de/gatehouse.ftl")),
];

/// One language's messages: the bundle, and the messages without variables already
/// formatted.
struct Messages {
    bundle: FluentBundle<FluentResource>,
    /// Keyed with foldhash: the ids are our own, and SipHash was most of a lookup.
    plain: HashMap<String, String, foldhash::fast::FixedState>,
    /// The messages made only of text and variables, taken apart.
    templates: HashMap<String, Template, foldhash::fast::FixedState>,
    /// `month-name` for 1 to 12: every date on a page names one.
    months: Vec<String>,
}

/// A message made only of text and variables, such as `{ $day }. { $month } { $year }`,
/// in pieces, filled in without Fluent's resolver (an argument map built per call, each
/// number printed as a float), because a page formats many dates (docs/PERFORMANCE.md).
/// Filling in the pieces gives the same text: `templates_format_as_fluent_does` holds
/// every template to it.
#[derive(Debug)]
struct Template(Vec<Piece>);

#[derive(Debug)]
enum Piece {
    Text(String),
    Variable(String),
}

impl Piece {
    fn is_variable(&self) -> bool {
        matches!(self, Self::Variable(_))
    }
}

impl Template {
    /// The pieces of `pattern`, or `None` if it holds more than text and variables
    /// (a selector, a term, a function), which only Fluent may resolve.
    fn of(pattern: &fluent_syntax::ast::Pattern<&str>) -> Option<Self> {
        use fluent_syntax::ast::{Expression, InlineExpression, PatternElement};
        pattern
            .elements
            .iter()
            .map(|element| match element {
                PatternElement::TextElement { value } => Some(Piece::Text((*value).to_owned())),
                PatternElement::Placeable {
                    expression: Expression::Inline(InlineExpression::VariableReference { id }),
                } => Some(Piece::Variable(id.name.to_owned())),
                PatternElement::Placeable { .. } => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(Self)
    }

    /// The text with `args` filled in; a variable without a value shows as `{$name}`,
    /// as Fluent shows it.
    fn fill(&self, args: &[(&'static str, Arg)]) -> String {
        use std::fmt::Write;
        let mut text = String::with_capacity(64);
        for piece in &self.0 {
            match piece {
                Piece::Text(part) => text.push_str(part),
                Piece::Variable(name) => match args.iter().find(|(arg, _)| arg == name) {
                    Some((_, Arg::Text(value))) => text.push_str(value),
                    Some((_, Arg::Number(number))) => {
                        let _ = write!(text, "{number}");
                    }
                    None => {
                        let _ = write!(text, "{{${name}}}");
                    }
                },
            }
        }
        text
    }
}

/// Every language's messages, in [`Language::ALL`] order, built on first use.
static MESSAGES: LazyLock<Vec<Messages>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(language, source)| Messages::load(*language, source))
        .collect()
});

impl Messages {
    fn load(language: Language, source: &str) -> Self {
        // A file with a syntax error still loads what parses; the tests name the error.
        let resource = FluentResource::try_new(source.to_owned())
            .unwrap_or_else(|(resource, _errors)| resource);
        let mut ids = Vec::new();
        let mut templates = HashMap::default();
        for entry in resource.entries() {
            if let fluent_syntax::ast::Entry::Message(message) = entry {
                ids.push(message.id.name.to_owned());
                let template = message.value.as_ref().and_then(Template::of);
                // A message without variables goes to `plain` below instead.
                if let Some(template) = template.filter(|t| t.0.iter().any(Piece::is_variable)) {
                    templates.insert(message.id.name.to_owned(), template);
                }
            }
        }
        let mut bundle = FluentBundle::new_concurrent(vec![language.locale()]);
        // Fluent wraps variables in Unicode isolation marks by default, for mixing
        // right-to-left text; no language here needs them, and they break copy and paste.
        bundle.set_use_isolating(false);
        // Only a duplicated id is refused, and the first one is kept.
        let _ = bundle.add_resource(resource);
        let plain = ids
            .into_iter()
            .filter_map(|id| {
                let pattern = bundle.get_message(&id)?.value()?;
                let mut errors = Vec::new();
                let text = bundle
                    .format_pattern(pattern, None, &mut errors)
                    .into_owned();
                // A message that needs a variable reports it missing: not plain.
                errors.is_empty().then_some((id, text))
            })
            .collect();
        let mut messages = Self {
            bundle,
            plain,
            templates,
            months: Vec::new(),
        };
        messages.months = (1..=12)
            .map(|month| messages.format("month-name", &[("month", Arg::Number(month))]))
            .collect();
        messages
    }

    /// `key` with `args`, or `None` when this language lacks it.
    fn try_format(&self, key: &str, args: &[(&'static str, Arg)]) -> Option<String> {
        match self.templates.get(key) {
            Some(template) => Some(template.fill(args)),
            None => self.resolve(key, args),
        }
    }

    /// `key` with `args` through Fluent's resolver.
    fn resolve(&self, key: &str, args: &[(&'static str, Arg)]) -> Option<String> {
        let pattern = self.bundle.get_message(key)?.value()?;
        let mut fluent_args = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            fluent_args.set(*name, value.to_fluent());
        }
        let mut errors = Vec::new();
        Some(
            self.bundle
                .format_pattern(pattern, Some(&fluent_args), &mut errors)
                .into_owned(),
        )
    }

    fn format(&self, key: &str, args: &[(&'static str, Arg)]) -> String {
        self.try_format(key, args).unwrap_or_default()
    }

    fn of(language: Language) -> &'static Self {
        &MESSAGES[language as usize]
    }
}

/// The id of the message `part` of a thing stored under a snake_case name, e.g.
/// `message_id("event", "signed_in", "title")` is `event-signed-in-title`.
pub fn message_id(prefix: &str, stored_name: &str, part: &str) -> String {
    format!("{prefix}-{}-{part}", stored_name.replace('_', "-"))
}

/// The name of the cookie that remembers the reader's choice of language.
pub const LANGUAGE_COOKIE: &str = "language";

/// A language the interface is translated into.
///
/// To add one: a variant here (and in [`Language::ALL`]), its folder under
/// `app/locales/` with every message of `en/gatehouse.ftl` translated, and its name in
/// its own language. The key-completeness test names any message still missing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Language {
    /// English, the default and the fallback.
    #[default]
    #[serde(rename = "en")]
    En,
    /// German.
    #[serde(rename = "de")]
    De,
}

impl Language {
    /// Every language, in the order the switcher lists them.
    pub const ALL: [Self; 2] = [Self::En, Self::De];

    /// The BCP 47 code: `lang` attributes, the cookie, the folder under `app/locales/`.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
        }
    }

    /// The language's name in itself ("Deutsch"), as a switcher should show it.
    pub fn native_name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::De => "Deutsch",
        }
    }

    /// The language as Fluent names it.
    fn locale(self) -> unic_langid::LanguageIdentifier {
        self.code().parse().unwrap_or_default()
    }

    /// The language a code names: `de`, `DE`, `de-AT` all name German.
    pub fn from_code(code: &str) -> Option<Self> {
        let primary = code.split(['-', '_']).next().unwrap_or_default();
        Self::ALL
            .into_iter()
            .find(|language| language.code().eq_ignore_ascii_case(primary))
    }

    /// The language of a request: the reader's `choice` (the cookie's value) if it names
    /// a language we have, else the best match for the `Accept-Language` header, else
    /// English. Malformed input of either kind is ignored, never an error.
    pub fn negotiate(choice: Option<&str>, accept_language: Option<&str>) -> Self {
        if let Some(language) = choice.and_then(Self::from_code) {
            return language;
        }
        let Some(header) = accept_language else {
            return Self::default();
        };
        let requested = fluent_langneg::accepted_languages::parse(header);
        let available: Vec<_> = Self::ALL.into_iter().map(Self::locale).collect();
        let default = Self::default().locale();
        fluent_langneg::negotiate_languages(
            &requested,
            &available,
            Some(&default),
            fluent_langneg::NegotiationStrategy::Lookup,
        )
        .first()
        .and_then(|id| Self::from_code(id.language.as_str()))
        .unwrap_or_default()
    }

    /// The message `key` in this language (English if this language lacks it), as an
    /// owned string.
    ///
    /// A key missing in every language comes back as the key itself, so a slip shows on
    /// the page instead of failing it; `every_key_in_the_code_exists` fails the tests.
    pub fn text(self, key: &str) -> String {
        self.message(key).unwrap_or(key).to_owned()
    }

    /// The message `key` without variables, borrowed from the table made at start (no
    /// copy: a page shows dozens), or `None` when no language has it. English stands in
    /// for a message this language lacks.
    pub fn message(self, key: &str) -> Option<&'static str> {
        match Messages::of(self).plain.get(key) {
            Some(text) => Some(text),
            None if self != Self::En => Self::En.message(key),
            None => None,
        }
    }

    /// The message `key` with variables, e.g. `("count", 3.into())`.
    pub fn text_with(self, key: &str, args: &[(&'static str, Arg)]) -> String {
        match Messages::of(self).try_format(key, args) {
            Some(text) => text,
            None if self != Self::En => Self::En.text_with(key, args),
            None => key.to_owned(),
        }
    }

    /// A calendar date, e.g. "23 November 2026" or "23. November 2026".
    pub fn date(self, date: chrono::NaiveDate) -> String {
        self.text_with("date-long", &self.date_args(date))
    }

    /// A date and time of day, e.g. "23 November 2026 at 10:14 UTC".
    pub fn date_time(self, at: chrono::NaiveDateTime) -> String {
        use chrono::Timelike;
        let [day, month, year] = self.date_args(at.date());
        let time = format!("{:02}:{:02}", at.hour(), at.minute());
        self.text_with("date-time-long", &[day, month, year, ("time", time.into())])
    }

    /// `$day`, `$month` (its name) and `$year` of `date`.
    fn date_args(self, date: chrono::NaiveDate) -> [(&'static str, Arg); 3] {
        use chrono::Datelike;
        [
            ("day", date.day().into()),
            ("month", self.month_name(date.month()).into()),
            ("year", date.year().into()),
        ]
    }

    /// The name of month `month` (1 to 12), from the table made at load.
    fn month_name(self, month: u32) -> String {
        let index = usize::try_from(month).unwrap_or(0).saturating_sub(1);
        Messages::of(self)
            .months
            .get(index)
            .cloned()
            .unwrap_or_default()
    }
}

/// A value for a message's variable.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Text, inserted as it is.
    Text(String),
    /// A number: Fluent picks the plural form from it.
    Number(i64),
}

impl Arg {
    fn to_fluent(&self) -> FluentValue<'static> {
        match self {
            Self::Text(text) => FluentValue::from(text.clone()),
            Self::Number(number) => FluentValue::from(*number),
        }
    }
}

impl From<String> for Arg {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for Arg {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

macro_rules! number_args {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(number: $t) -> Self {
                Self::Number(i64::try_from(number).unwrap_or(i64::MAX))
            }
        }
    )*};
}
number_args!(i32, i64, u32, u64, usize);

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};

    use super::*;

    /// Each message's id with the variables it uses.
    fn messages(source: &str) -> std::collections::BTreeMap<String, BTreeSet<String>> {
        let resource = fluent_syntax::parser::parse(source)
            .unwrap_or_else(|(_, errors)| panic!("the file does not parse: {errors:?}"));
        resource
            .body
            .iter()
            .filter_map(|entry| match entry {
                Entry::Message(message) => {
                    let mut variables = BTreeSet::new();
                    if let Some(value) = &message.value {
                        collect_variables(value, &mut variables);
                    }
                    Some((message.id.name.to_owned(), variables))
                }
                _ => None,
            })
            .collect()
    }

    fn collect_variables(pattern: &Pattern<&str>, into: &mut BTreeSet<String>) {
        for element in &pattern.elements {
            if let PatternElement::Placeable { expression } = element {
                match expression {
                    Expression::Inline(inline) => collect_inline(inline, into),
                    Expression::Select { selector, variants } => {
                        collect_inline(selector, into);
                        for variant in variants {
                            collect_variables(&variant.value, into);
                        }
                    }
                }
            }
        }
    }

    fn collect_inline(inline: &InlineExpression<&str>, into: &mut BTreeSet<String>) {
        if let InlineExpression::VariableReference { id } = inline {
            into.insert(id.name.to_owned());
        }
    }

    /// A message filled in from its template reads exactly as Fluent resolves it: with
    /// text, with numbers (negative, large), and with a variable left out.
    #[test]
    fn templates_format_as_fluent_does() {
        let mut checked = 0;
        for language in Language::ALL {
            let messages = Messages::of(language);
            for (key, template) in &messages.templates {
                let names: Vec<&'static str> = template
                    .0
                    .iter()
                    .filter_map(|piece| match piece {
                        Piece::Variable(name) => Some(&*String::leak(name.clone())),
                        Piece::Text(_) => None,
                    })
                    .collect();
                let cases: [Vec<(&'static str, Arg)>; 4] = [
                    names
                        .iter()
                        .map(|n| (*n, Arg::from(format!("<{n} é>"))))
                        .collect(),
                    names.iter().map(|n| (*n, Arg::Number(-7))).collect(),
                    names
                        .iter()
                        .map(|n| (*n, Arg::Number(1_796_415_138)))
                        .collect(),
                    names.iter().skip(1).map(|n| (*n, Arg::Number(3))).collect(),
                ];
                for args in cases {
                    assert_eq!(
                        Some(template.fill(&args)),
                        messages.resolve(key, &args),
                        "{language:?} `{key}` with {args:?}"
                    );
                    checked += 1;
                }
            }
        }
        // The dates are templates; a change that stopped finding them would test nothing.
        assert!(
            Messages::of(Language::De)
                .templates
                .contains_key("date-time-long")
        );
        assert!(checked >= 40, "only {checked} cases");
    }

    /// Every language has every message, with the same variables: a missing or extra
    /// key, or a translation that drops `{ $email }`, fails here by name.
    #[test]
    fn messages_are_complete_in_every_language() {
        let english = messages(SOURCES[0].1);
        assert!(english.len() > 100, "the English file looks truncated");
        for (language, source) in &SOURCES[1..] {
            let other = messages(source);
            let missing: Vec<_> = english.keys().filter(|k| !other.contains_key(*k)).collect();
            let extra: Vec<_> = other.keys().filter(|k| !english.contains_key(*k)).collect();
            assert!(missing.is_empty(), "{language:?} lacks {missing:?}");
            assert!(extra.is_empty(), "{language:?} has unknown {extra:?}");
            for (key, variables) in &english {
                assert_eq!(
                    &other[key], variables,
                    "{language:?} `{key}` uses other variables"
                );
            }
        }
    }

    /// Every key the code asks for exists: each string literal passed to one of the
    /// lookup helpers in `app/src` is checked against the English file.
    #[test]
    fn every_key_in_the_code_exists() {
        let english = messages(SOURCES[0].1);
        let mut unknown = Vec::new();
        let mut seen = 0;
        for file in rust_sources(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src")) {
            let code = std::fs::read_to_string(&file).unwrap();
            for key in keys_in(&code) {
                seen += 1;
                if !english.contains_key(&key) {
                    unknown.push(format!("{}: {key}", file.display()));
                }
            }
        }
        assert!(seen > 100, "the scan found only {seen} keys");
        assert!(
            unknown.is_empty(),
            "keys missing from en/gatehouse.ftl: {unknown:#?}"
        );
    }

    fn rust_sources(dir: std::path::PathBuf) -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.extend(rust_sources(path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
        files
    }

    /// The literal first arguments of `t("…")`, `t_with("…"`, `.text("…")` and
    /// `.text_with("…"`.
    fn keys_in(code: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for call in ["t(\"", "t_with(\"", ".text(\"", ".text_with(\""] {
            let mut rest = code;
            while let Some(at) = rest.find(call) {
                let preceded_by_ident = rest[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_');
                rest = &rest[at + call.len()..];
                let key: String = rest.chars().take_while(|c| *c != '"').collect();
                let looks_like_a_key = key.starts_with(|c: char| c.is_ascii_lowercase())
                    && key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                if !preceded_by_ident && looks_like_a_key {
                    keys.push(key);
                }
            }
        }
        keys
    }

    #[test]
    fn the_choice_wins_then_the_browser_then_english() {
        use Language::{De, En};
        assert_eq!(Language::negotiate(Some("de"), Some("en-US,en")), De);
        assert_eq!(Language::negotiate(Some("en"), Some("de-DE")), En);
        assert_eq!(
            Language::negotiate(Some("klingon"), Some("de-CH,de;q=0.9")),
            De
        );
        assert_eq!(
            Language::negotiate(None, Some("fr-FR,de;q=0.8,en;q=0.5")),
            De
        );
        assert_eq!(
            Language::negotiate(None, Some("fr-FR,en;q=0.8,de;q=0.5")),
            En
        );
        assert_eq!(Language::negotiate(None, Some("fr")), En);
        assert_eq!(Language::negotiate(None, Some(";;q=,\u{0}garbage")), En);
        assert_eq!(Language::negotiate(None, None), En);
        assert_eq!(Language::from_code("DE-at"), Some(De));
        assert_eq!(Language::from_code(""), None);
    }

    #[test]
    fn plurals_dates_and_variables_follow_the_language() {
        use Language::{De, En};
        assert_eq!(
            En.text_with("time-minutes-ago", &[("count", 1.into())]),
            "1 minute ago"
        );
        assert_eq!(
            En.text_with("time-minutes-ago", &[("count", 5.into())]),
            "5 minutes ago"
        );
        assert_eq!(
            De.text_with("time-minutes-ago", &[("count", 1.into())]),
            "vor 1 Minute"
        );
        assert_eq!(
            De.text_with("time-minutes-ago", &[("count", 5.into())]),
            "vor 5 Minuten"
        );
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        assert_eq!(En.date(day), "5 March 2026");
        assert_eq!(De.date(day), "5. März 2026");
        // No isolation marks around variables.
        assert!(!En.date(day).contains('\u{2068}'));
        assert_eq!(En.text("no-such-key"), "no-such-key");
    }
}
