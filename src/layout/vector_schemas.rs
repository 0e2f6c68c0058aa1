//! Which framework wrote a vector index or collection, told by the fields beside the vector: the
//! field Semantic Search shows as the record's text, and the layout preset whose conversations
//! the records belong to (Search → Enter opens them through it). `detect` names them in the lines
//! it prints; the names are the libraries' own (recorded by scripts/record-layout-fixtures).

use crate::config::LayoutPreset;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VectorSchema {
    pub framework: &'static str,
    /// The field holding the text that was embedded.
    pub text: &'static str,
    /// The preset reading the conversations the records belong to.
    pub preset: Option<LayoutPreset>,
    /// The fields that tell this framework's records apart (all present).
    has: &'static [&'static str],
}

/// Most specific first: the last ones know only a text field.
static SCHEMAS: &[VectorSchema] = &[
    VectorSchema {
        framework: "redisvl SemanticMessageHistory",
        text: "content",
        preset: Some(LayoutPreset::Redisvl),
        has: &["session_tag", "entry_id", "content", "role"],
    },
    VectorSchema { framework: "redisvl SemanticCache", text: "prompt", preset: None, has: &["prompt", "response"] },
    VectorSchema { framework: "mem0", text: "memory", preset: Some(LayoutPreset::Mem0), has: &["memory_id", "memory"] },
    VectorSchema {
        framework: "agent-memory-server long-term memory",
        text: "text",
        preset: Some(LayoutPreset::AgentMemoryServer),
        has: &["id_", "session_id", "memory_type", "text"],
    },
    // A vector document per embedded field of an item; the item itself is another document
    // (the Redis backend joins its embedded field's text in as `text`).
    VectorSchema {
        framework: "LangGraph RedisStore",
        text: "text",
        preset: None,
        has: &["prefix", "key", "field_name"],
    },
    VectorSchema {
        framework: "LangChain FirestoreVectorStore",
        text: "content",
        preset: None,
        has: &["content", "metadata"],
    },
    VectorSchema { framework: "langchain-redis RedisVectorStore", text: "text", preset: None, has: &["text"] },
];

/// The framework whose fields these are, if any.
pub fn recognise<'a>(fields: impl IntoIterator<Item = &'a str>) -> Option<&'static VectorSchema> {
    let fields: Vec<&str> = fields.into_iter().collect();
    SCHEMAS.iter().find(|s| s.has.iter().all(|h| fields.contains(h)))
}

impl VectorSchema {
    /// The lines `detect` adds under `[profile.NAME.vector]`: the text field, and as a comment
    /// the preset that opens the records' conversations.
    pub fn config_lines(&self) -> String {
        let mut s = format!("\ntext_field = \"{}\"   # {}", self.text, self.framework);
        if let Some(p) = self.preset {
            s.push_str(&format!(
                "\n# Search → Enter opens a record's conversation with [profile.NAME.layout] preset = \"{}\"",
                p.name()
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_frameworks_fields_name_it() {
        let of = |f: &[&str]| recognise(f.iter().copied()).map(|s| s.framework);
        assert_eq!(
            of(&["session_tag", "entry_id", "content", "role", "vector_field"]),
            Some("redisvl SemanticMessageHistory")
        );
        assert_eq!(of(&["prompt", "response", "prompt_vector"]), Some("redisvl SemanticCache"));
        assert_eq!(of(&["memory_id", "hash", "memory", "embedding", "user_id"]), Some("mem0"));
        assert_eq!(
            of(&["id_", "session_id", "memory_type", "text", "vector"]),
            Some("agent-memory-server long-term memory")
        );
        assert_eq!(of(&["text", "embedding", "topic"]), Some("langchain-redis RedisVectorStore"));
        assert_eq!(of(&["content", "embedding", "metadata"]), Some("LangChain FirestoreVectorStore"));
        assert_eq!(of(&["body", "vec"]), None);
        let mem0 = recognise(["memory_id", "memory"]).unwrap().config_lines();
        assert!(mem0.contains("text_field = \"memory\"") && mem0.contains("preset = \"mem0\""), "{mem0}");
    }
}
