//! The shape of a key per message (`chat:{conversation}:{message}`): its parts and how a key matches.

/// The shape of a key per message (`key = "chat:{conversation}:{message}"`): literal text and
/// the parts `{conversation}`, `{message}` (an id; a ULID gives the time), `{ts}` (Unix seconds)
/// and `{*}` (anything). Two parts must be separated by text.
/// Parsed once, when the config is read; the layout readers take it as it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeyTemplate {
    text: String,
    parts: Vec<KeyPart>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyVar {
    Conversation,
    Message,
    Ts,
    Any,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum KeyPart {
    Text(String),
    Var(KeyVar),
}

/// What a key names, by its template.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeyParts {
    pub conversation: Option<String>,
    pub message: Option<String>,
    pub ts: Option<f64>,
}

impl KeyTemplate {
    pub fn parse(t: &str) -> Result<KeyTemplate, String> {
        let mut parts = Vec::new();
        let mut rest = t;
        while !rest.is_empty() {
            match rest.find('{') {
                Some(0) => {
                    let end = rest.find('}').ok_or("a `{` without its `}`")?;
                    let var = match &rest[1..end] {
                        "conversation" => KeyVar::Conversation,
                        "message" => KeyVar::Message,
                        "ts" => KeyVar::Ts,
                        "*" => KeyVar::Any,
                        other => {
                            return Err(format!(
                                "unknown part {{{other}}}: expected {{conversation}}, {{message}}, {{ts}} or {{*}}"
                            ));
                        }
                    };
                    if matches!(parts.last(), Some(KeyPart::Var(_))) {
                        return Err("two parts must be separated by text (e.g. `:`)".into());
                    }
                    if var != KeyVar::Any && parts.contains(&KeyPart::Var(var)) {
                        return Err(format!("{{{}}} appears twice", &rest[1..end]));
                    }
                    parts.push(KeyPart::Var(var));
                    rest = &rest[end + 1..];
                }
                Some(i) => {
                    parts.push(KeyPart::Text(rest[..i].to_string()));
                    rest = &rest[i..];
                }
                None => {
                    parts.push(KeyPart::Text(rest.to_string()));
                    rest = "";
                }
            }
        }
        Ok(KeyTemplate { text: t.to_string(), parts })
    }

    /// The template as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether a key of this shape names its conversation.
    pub fn names_conversation(&self) -> bool {
        self.parts.contains(&KeyPart::Var(KeyVar::Conversation))
    }

    /// The SCAN MATCH glob of every key of this shape.
    pub fn glob(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                KeyPart::Text(t) => {
                    t.chars().flat_map(|c| if "*?[]\\".contains(c) { vec!['\\', c] } else { vec![c] }).collect()
                }
                KeyPart::Var(_) => "*".to_string(),
            })
            .collect()
    }

    /// The parts of `key`, or `None` when it has another shape. A conversation id may hold the
    /// separator (it takes the longest match that leaves the rest a valid shape); `{ts}` must
    /// be a number.
    pub fn parts(&self, key: &str) -> Option<KeyParts> {
        fn go(parts: &[KeyPart], key: &str, out: &mut KeyParts) -> bool {
            let Some((first, rest)) = parts.split_first() else { return key.is_empty() };
            match first {
                KeyPart::Text(t) => key.strip_prefix(t.as_str()).is_some_and(|k| go(rest, k, out)),
                KeyPart::Var(v) => {
                    let mut ends: Vec<usize> = key.char_indices().map(|(i, _)| i).skip(1).chain([key.len()]).collect();
                    if *v == KeyVar::Conversation {
                        ends.reverse();
                    }
                    for end in ends {
                        let (val, tail) = key.split_at(end);
                        if *v == KeyVar::Ts && val.parse::<f64>().is_err() {
                            continue;
                        }
                        if go(rest, tail, out) {
                            match v {
                                KeyVar::Conversation => out.conversation = Some(val.to_string()),
                                KeyVar::Message => out.message = Some(val.to_string()),
                                KeyVar::Ts => out.ts = val.parse().ok(),
                                KeyVar::Any => {}
                            }
                            return true;
                        }
                    }
                    false
                }
            }
        }
        let mut out = KeyParts::default();
        go(&self.parts, key, &mut out).then_some(out)
    }
}
