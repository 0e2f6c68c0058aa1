//! The `:` command line's table: each command's name and arguments, completion by Tab, and the usage
//! the hint and `docs/keybindings.md` show.

/// One `:` command: its name, the other names it answers to, its arguments and what it does.
pub struct CommandSpec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub args: &'static str,
    pub what: &'static str,
}

impl CommandSpec {
    /// `name ARGS`, as the hint and `docs/keybindings.md` show it.
    pub fn usage(&self) -> String {
        if self.args.is_empty() { self.name.to_string() } else { format!("{} {}", self.name, self.args) }
    }
}

/// Every `:` command: the one table the command line runs by name, its hint, the help,
/// completion and `docs/keybindings.md`'s list are made from (a test keeps it equal).
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "db", aliases: &["select"], args: "N", what: "switch the Redis database" },
    CommandSpec { name: "match", aliases: &["filter"], args: "GLOB", what: "scan the keys matching GLOB" },
    CommandSpec { name: "type", aliases: &[], args: "T|all", what: "list keys of one type" },
    CommandSpec { name: "delim", aliases: &["delimiter"], args: "D", what: "the key tree's delimiter" },
    CommandSpec { name: "tree", aliases: &[], args: "", what: "keys as a namespace tree" },
    CommandSpec { name: "flat", aliases: &[], args: "", what: "keys as a flat list" },
    CommandSpec { name: "sort", aliases: &[], args: "name|ttl|size", what: "sort the keys" },
    CommandSpec {
        name: "analyze",
        aliases: &["analyse"],
        args: "[GLOB]",
        what: "what is eating Redis: memory by namespace, biggest keys, leak suspects",
    },
    CommandSpec {
        name: "server",
        aliases: &["slowlog", "clients"],
        args: "",
        what: "the slow log, the clients and the command stats of every node",
    },
    CommandSpec {
        name: "profile",
        aliases: &["monitor"],
        args: "[FILTER]",
        what: "who is hammering Redis: a bounded MONITOR session, hot keys, commands, clients, a live tail",
    },
    CommandSpec {
        name: "pubsub",
        aliases: &["subscribe"],
        args: "[PATTERN]",
        what: "channels and their subscribers, and a read-only subscriber's live messages, decoded",
    },
    CommandSpec { name: "export", aliases: &[], args: "FILE", what: "write what this view shows as JSON lines" },
    CommandSpec { name: "replay", aliases: &[], args: "FILE", what: "an incident recorded with --record, in Health" },
    CommandSpec { name: "docs", aliases: &["browse"], args: "[PATH]", what: "the long-term document browser" },
    CommandSpec { name: "audit", aliases: &[], args: "", what: "check that the three tiers agree" },
    CommandSpec { name: "messages", aliases: &["log"], args: "", what: "every status message so far" },
    CommandSpec { name: "keys", aliases: &[], args: "", what: "the Redis Keys tab" },
    CommandSpec { name: "q", aliases: &["quit"], args: "", what: "quit" },
];

/// The command a name (or alias) runs.
pub fn command_named(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.name == name || c.aliases.contains(&name))
}

/// The commands' usages, joined by `sep` (the command line's hint, the unknown-command error).
pub fn command_usages(sep: &str) -> String {
    COMMANDS.iter().map(CommandSpec::usage).collect::<Vec<_>>().join(sep)
}

/// Tab on the command line: the text completed to the one command it begins (with a space
/// after), or to what every command it begins shares; and those commands' names.
pub fn complete_command(text: &str) -> (String, Vec<&'static str>) {
    if text.contains(' ') {
        return (text.to_string(), Vec::new());
    }
    // A command is a hit once, by its name, whether its name or an alias begins so.
    let hits: Vec<&'static str> = COMMANDS
        .iter()
        .filter(|c| std::iter::once(&c.name).chain(c.aliases).any(|n| n.starts_with(text)))
        .map(|c| c.name)
        .collect();
    match hits.as_slice() {
        [] => (text.to_string(), hits),
        [one] => (format!("{one} "), hits),
        [first, rest @ ..] => {
            let common = rest
                .iter()
                .fold(first.len(), |n, h| first.bytes().zip(h.bytes()).take(n).take_while(|(a, b)| a == b).count());
            (first[..common].to_string(), hits)
        }
    }
}
