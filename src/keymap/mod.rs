//! Actions, their default bindings per context, overrides from config, and the footer/help
//! text — all generated from the one table below.

mod commands;
mod keys;
pub use commands::{COMMANDS, CommandSpec, command_named, command_usages, complete_command};
pub use keys::KeySpec;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    Global,
    KeyList,
    Value,
    ConvList,
    Thread,
    Browser,
    Search,
    Health,
    Audit,
    Analysis,
    Server,
    Profile,
    PubSub,
}

impl Context {
    pub const ALL: [Context; 13] = [
        Context::Global,
        Context::KeyList,
        Context::Value,
        Context::ConvList,
        Context::Thread,
        Context::Browser,
        Context::Search,
        Context::Health,
        Context::Audit,
        Context::Analysis,
        Context::Server,
        Context::Profile,
        Context::PubSub,
    ];
    /// The view's name, as help and errors show it.
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Global",
            Context::KeyList => "Redis Keys: list",
            Context::Value => "Redis Keys: value",
            Context::ConvList => "Conversations: list",
            Context::Thread => "Conversations: thread",
            Context::Browser => "Conversations: document browser",
            Context::Search => "Semantic Search (while editing: Enter searches now, Up/Down history, Esc leaves)",
            Context::Health => "Health",
            Context::Audit => "Health: cross-tier audit",
            Context::Analysis => "Redis Keys: keyspace analysis",
            Context::Server => "Redis Keys: server (slow log, clients, commands)",
            Context::Profile => "Redis Keys: profiler (MONITOR: commands, hot keys, clients, tail)",
            Context::PubSub => "Redis Keys: pub/sub (channels, live messages)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    NextTab,
    PrevTab,
    Tab1,
    Tab2,
    Tab3,
    Tab4,
    CommandLine,
    ToggleWrite,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    Expand,
    Collapse,
    Filter,
    Refresh,
    Cancel,
    ToggleTree,
    CycleSort,
    CycleType,
    SelectDb,
    Delete,
    Expire,
    Persist,
    Rename,
    NextPage,
    PrevPage,
    Browse,
    ToggleSide,
    SearchNext,
    SearchPrev,
    ToggleExpand,
    Subcollections,
    EditFilter,
    TopKUp,
    TopKDown,
    NextNamespace,
    ThresholdUp,
    ThresholdDown,
    ToggleValues,
    Pin,
    WhyNot,
    Recall,
    /// The value's next format (auto, then each decoder its bytes allow).
    CycleFormat,
    Freeze,
    Trace,
    Audit,
    Repair,
    /// Open the selected value, message or alert whole in the pager.
    Pager,
    /// Copy the selected key, value, message or id to the clipboard (OSC 52).
    Copy,
    /// With a value open: the focus between the key list and the value (else: next tab).
    SwitchPane,
}

/// (action, config name, context, default keys, help text, shown in footer)
type Entry = (Action, &'static str, Context, &'static [&'static str], &'static str, bool);

const TABLE: &[Entry] = &[
    (Action::Quit, "quit", Context::Global, &["q", "Ctrl-c"], "quit", true),
    (Action::Help, "help", Context::Global, &["?"], "help", true),
    (Action::NextTab, "next_tab", Context::Global, &["Tab"], "next tab", false),
    (Action::PrevTab, "prev_tab", Context::Global, &["BackTab"], "previous tab", false),
    (Action::Tab1, "tab_conversations", Context::Global, &["1"], "Conversations tab", false),
    (Action::Tab2, "tab_keys", Context::Global, &["2"], "Redis Keys tab", false),
    (Action::Tab3, "tab_search", Context::Global, &["3"], "Semantic Search tab", false),
    (Action::Tab4, "tab_health", Context::Global, &["4"], "Health tab", false),
    (
        Action::CommandLine,
        "command",
        Context::Global,
        &[":"],
        "command line: the : commands (listed in help; Tab completes)",
        false,
    ),
    (Action::ToggleWrite, "toggle_write", Context::Global, &["W"], "toggle write mode", false),
    (Action::Up, "up", Context::KeyList, &["k", "Up"], "move up", false),
    (Action::Down, "down", Context::KeyList, &["j", "Down"], "move down", false),
    (Action::PageUp, "page_up", Context::KeyList, &["PageUp", "Ctrl-b"], "page up", false),
    (Action::PageDown, "page_down", Context::KeyList, &["PageDown", "Ctrl-f"], "page down", false),
    (Action::Top, "top", Context::KeyList, &["g", "Home"], "first row", false),
    (Action::Bottom, "bottom", Context::KeyList, &["G", "End"], "last row", false),
    (Action::Open, "open", Context::KeyList, &["Enter"], "open value / toggle folder", true),
    (Action::Expand, "expand", Context::KeyList, &["l", "Right"], "expand folder / open", false),
    (Action::Collapse, "collapse", Context::KeyList, &["h", "Left"], "collapse / go to parent", false),
    (Action::Filter, "filter", Context::KeyList, &["/"], "edit MATCH glob", true),
    (Action::Refresh, "refresh", Context::KeyList, &["r"], "rescan", true),
    (Action::Cancel, "cancel", Context::KeyList, &["Esc"], "cancel scan", false),
    (Action::ToggleTree, "toggle_tree", Context::KeyList, &["v"], "tree / flat", true),
    (Action::CycleSort, "sort", Context::KeyList, &["s"], "sort name/ttl/size", true),
    (Action::CycleType, "type_filter", Context::KeyList, &["t"], "type filter", true),
    (Action::SelectDb, "select_db", Context::KeyList, &["d"], "database", true),
    (Action::Delete, "delete", Context::KeyList, &["x", "Delete"], "delete key (write mode)", false),
    (Action::Expire, "expire", Context::KeyList, &["e"], "set TTL (write mode)", false),
    (Action::Persist, "persist", Context::KeyList, &["p"], "remove TTL (write mode)", false),
    (Action::Rename, "rename", Context::KeyList, &["R"], "rename (write mode)", false),
    (Action::Copy, "copy_key", Context::KeyList, &["y"], "copy the key's name (OSC 52)", false),
    (
        Action::Pager,
        "keys_value_pager",
        Context::KeyList,
        &["o"],
        "open the value shown whole (list focused too)",
        false,
    ),
    (Action::SwitchPane, "keys_pane", Context::KeyList, &["Tab"], "focus on the open value (else next tab)", false),
    (Action::Up, "value_up", Context::Value, &["k", "Up"], "scroll up", false),
    (Action::Down, "value_down", Context::Value, &["j", "Down"], "scroll down", false),
    (Action::NextPage, "next_page", Context::Value, &["PageDown", "n"], "next page", true),
    (Action::PrevPage, "prev_page", Context::Value, &["PageUp", "N"], "previous page", true),
    (Action::Top, "value_top", Context::Value, &["g", "Home"], "top", false),
    (Action::Bottom, "value_bottom", Context::Value, &["G", "End"], "bottom", false),
    (Action::Back, "back", Context::Value, &["Esc", "h", "Left"], "back to keys", true),
    (Action::Pager, "value_pager", Context::Value, &["o"], "open whole", true),
    (
        Action::CycleFormat,
        "value_format",
        Context::Value,
        &["F"],
        "next format (auto, JSON, msgpack, pickle, gzip, …)",
        true,
    ),
    (Action::Copy, "copy_value", Context::Value, &["y"], "copy this page of the value (OSC 52)", false),
    (Action::SwitchPane, "value_pane", Context::Value, &["Tab"], "focus on the key list (the value follows it)", false),
    (Action::Refresh, "value_refresh", Context::Value, &["r"], "reload value", true),
    (Action::Delete, "value_delete", Context::Value, &["x", "Delete"], "delete key (write mode)", false),
    (Action::Expire, "value_expire", Context::Value, &["e"], "set TTL (write mode)", false),
    (Action::Persist, "value_persist", Context::Value, &["p"], "remove TTL (write mode)", false),
    (Action::Rename, "value_rename", Context::Value, &["R"], "rename (write mode)", false),
    (Action::Up, "conv_up", Context::ConvList, &["k", "Up"], "move up", false),
    (Action::Down, "conv_down", Context::ConvList, &["j", "Down"], "move down", false),
    (Action::PageUp, "conv_page_up", Context::ConvList, &["PageUp", "Ctrl-b"], "page up", false),
    (Action::PageDown, "conv_page_down", Context::ConvList, &["PageDown", "Ctrl-f"], "page down", false),
    (Action::Top, "conv_top", Context::ConvList, &["g", "Home"], "first row", false),
    (Action::Bottom, "conv_bottom", Context::ConvList, &["G", "End"], "last loaded row", false),
    (Action::Open, "conv_open", Context::ConvList, &["Enter", "l", "Right"], "open the conversation", true),
    (
        Action::Filter,
        "conv_filter",
        Context::ConvList,
        &["/"],
        "filter: user:ID agent:ID id:PREFIX or title words",
        true,
    ),
    (Action::Refresh, "conv_refresh", Context::ConvList, &["r"], "reload", true),
    (Action::Browse, "browse", Context::ConvList, &["b"], "document browser", true),
    (Action::Copy, "copy_conversation", Context::ConvList, &["y"], "copy the conversation id (OSC 52)", false),
    (Action::Up, "thread_up", Context::Thread, &["k", "Up"], "previous message", false),
    (Action::Down, "thread_down", Context::Thread, &["j", "Down"], "next message", false),
    (Action::PageUp, "thread_page_up", Context::Thread, &["PageUp", "Ctrl-b"], "scroll a page up", false),
    (
        Action::PageDown,
        "thread_page_down",
        Context::Thread,
        &["PageDown", "Ctrl-f", "Space"],
        "scroll a page down",
        false,
    ),
    (Action::Top, "thread_top", Context::Thread, &["g", "Home"], "first message", true),
    (Action::Bottom, "thread_bottom", Context::Thread, &["G", "End"], "last message", true),
    (Action::ToggleExpand, "expand", Context::Thread, &["Enter", "e"], "expand / collapse", true),
    (Action::Filter, "thread_search", Context::Thread, &["/"], "search", true),
    (Action::SearchNext, "search_next", Context::Thread, &["n"], "next match", false),
    (Action::SearchPrev, "search_prev", Context::Thread, &["N"], "previous match", false),
    (Action::ToggleSide, "side_panel", Context::Thread, &["i"], "conversation, user and agent documents", true),
    (Action::Trace, "trace", Context::Thread, &["t"], "trace the message across the tiers", true),
    (Action::Pager, "thread_pager", Context::Thread, &["o"], "open whole (message or trace)", true),
    (Action::Copy, "copy_message", Context::Thread, &["y"], "copy the message (OSC 52)", false),
    (Action::Refresh, "thread_refresh", Context::Thread, &["r"], "read the trace and tier badges again", false),
    (Action::Back, "thread_back", Context::Thread, &["Esc", "h", "Left"], "back (closes the trace first)", true),
    (Action::Up, "browser_up", Context::Browser, &["k", "Up"], "move up", false),
    (Action::Down, "browser_down", Context::Browser, &["j", "Down"], "move down", false),
    (Action::PageUp, "browser_page_up", Context::Browser, &["PageUp"], "page up", false),
    (Action::PageDown, "browser_page_down", Context::Browser, &["PageDown"], "page down", false),
    (Action::Top, "browser_top", Context::Browser, &["g", "Home"], "first row", false),
    (Action::Bottom, "browser_bottom", Context::Browser, &["G", "End"], "last row", false),
    (Action::Open, "browser_open", Context::Browser, &["Enter", "l", "Right"], "open / follow reference", true),
    (Action::Subcollections, "subcollections", Context::Browser, &["c"], "subcollections of the document", true),
    (Action::Refresh, "browser_refresh", Context::Browser, &["r"], "reload", true),
    (Action::Back, "browser_back", Context::Browser, &["Esc", "h", "Left"], "back", true),
    (Action::Freeze, "freeze", Context::Health, &["f"], "freeze / resume the display", true),
    (Action::TopKUp, "window_up", Context::Health, &["+", "="], "longer window", true),
    (Action::TopKDown, "window_down", Context::Health, &["-"], "shorter window", true),
    (Action::Audit, "audit", Context::Health, &["a"], "cross-tier audit", true),
    (Action::Pager, "alerts_pager", Context::Health, &["o"], "alerts whole", true),
    (Action::Collapse, "replay_back", Context::Health, &["h", "Left"], "replay: a second back", false),
    (Action::Expand, "replay_forward", Context::Health, &["l", "Right"], "replay: a second on", false),
    (Action::Top, "replay_start", Context::Health, &["g", "Home"], "replay: the start", false),
    (Action::Bottom, "replay_end", Context::Health, &["G", "End"], "replay: the end", false),
    (Action::SearchPrev, "replay_prev_alert", Context::Health, &["["], "replay: the previous alert", false),
    (Action::SearchNext, "replay_next_alert", Context::Health, &["]"], "replay: the next alert", false),
    (Action::Back, "replay_close", Context::Health, &["Esc"], "replay: back to live", false),
    (Action::Up, "audit_up", Context::Audit, &["k", "Up"], "move up", false),
    (Action::Down, "audit_down", Context::Audit, &["j", "Down"], "move down", false),
    (Action::PageUp, "audit_page_up", Context::Audit, &["PageUp", "Ctrl-b"], "page up", false),
    (Action::PageDown, "audit_page_down", Context::Audit, &["PageDown", "Ctrl-f"], "page down", false),
    (Action::Top, "audit_top", Context::Audit, &["g", "Home"], "first row", false),
    (Action::Bottom, "audit_bottom", Context::Audit, &["G", "End"], "last row", false),
    (Action::Open, "audit_open", Context::Audit, &["Enter", "l", "Right"], "show / hide the findings of a kind", true),
    (Action::Refresh, "audit_rerun", Context::Audit, &["r"], "audit again", true),
    (Action::Repair, "repair", Context::Audit, &["R"], "repair all drift (write mode, asks first)", true),
    (
        Action::Back,
        "audit_back",
        Context::Audit,
        &["Esc", "h", "Left"],
        "back to the charts (stops a running audit)",
        true,
    ),
    (Action::Up, "analysis_up", Context::Analysis, &["k", "Up"], "move up", false),
    (Action::Down, "analysis_down", Context::Analysis, &["j", "Down"], "move down", false),
    (Action::PageUp, "analysis_page_up", Context::Analysis, &["PageUp", "Ctrl-b"], "page up", false),
    (Action::PageDown, "analysis_page_down", Context::Analysis, &["PageDown", "Ctrl-f"], "page down", false),
    (Action::Top, "analysis_top", Context::Analysis, &["g", "Home"], "first row", false),
    (Action::Bottom, "analysis_bottom", Context::Analysis, &["G", "End"], "last row", false),
    (
        Action::Open,
        "analysis_open",
        Context::Analysis,
        &["Enter", "l", "Right"],
        "list the namespace / open the key",
        true,
    ),
    (Action::Pager, "analysis_report", Context::Analysis, &["o"], "the whole report", true),
    (Action::Refresh, "analysis_rerun", Context::Analysis, &["r"], "analyze again", true),
    (
        Action::Back,
        "analysis_back",
        Context::Analysis,
        &["Esc", "h", "Left"],
        "back to the keys (stops a running one)",
        true,
    ),
    (Action::Up, "server_up", Context::Server, &["k", "Up"], "scroll up", false),
    (Action::Down, "server_down", Context::Server, &["j", "Down"], "scroll down", false),
    (Action::PageUp, "server_page_up", Context::Server, &["PageUp", "Ctrl-b"], "page up", false),
    (Action::PageDown, "server_page_down", Context::Server, &["PageDown", "Ctrl-f"], "page down", false),
    (Action::Top, "server_top", Context::Server, &["g", "Home"], "top", false),
    (Action::Bottom, "server_bottom", Context::Server, &["G", "End"], "bottom", false),
    (Action::CycleSort, "server_sort", Context::Server, &["s"], "sort clients: idle / memory / command", true),
    (Action::Refresh, "server_refresh", Context::Server, &["r"], "read now (also every 2 s)", true),
    (Action::Up, "profile_up", Context::Profile, &["k", "Up"], "scroll up", false),
    (Action::Down, "profile_down", Context::Profile, &["j", "Down"], "scroll down", false),
    (Action::PageUp, "profile_page_up", Context::Profile, &["PageUp", "Ctrl-b"], "page up", false),
    (Action::PageDown, "profile_page_down", Context::Profile, &["PageDown", "Ctrl-f"], "page down", false),
    (Action::Top, "profile_top", Context::Profile, &["g", "Home"], "top", false),
    (Action::Bottom, "profile_bottom", Context::Profile, &["G", "End"], "bottom", false),
    (Action::EditFilter, "profile_filter", Context::Profile, &["f", "/"], "filter the tail: cmd:, key:, client:", true),
    (Action::Refresh, "profile_again", Context::Profile, &["r"], "start another session (once this one stopped)", true),
    (Action::Pager, "profile_pager", Context::Profile, &["o"], "open the tables and tail in the pager", false),
    (Action::Back, "profile_stop", Context::Profile, &["Esc"], "stop MONITOR and close", true),
    (Action::Up, "pubsub_up", Context::PubSub, &["k", "Up"], "scroll up", false),
    (Action::Down, "pubsub_down", Context::PubSub, &["j", "Down"], "scroll down", false),
    (Action::PageUp, "pubsub_page_up", Context::PubSub, &["PageUp", "Ctrl-b"], "page up", false),
    (Action::PageDown, "pubsub_page_down", Context::PubSub, &["PageDown", "Ctrl-f"], "page down", false),
    (Action::Top, "pubsub_top", Context::PubSub, &["g", "Home"], "top (G: follow the newest)", false),
    (Action::Bottom, "pubsub_bottom", Context::PubSub, &["G", "End"], "bottom", false),
    (Action::Pager, "pubsub_pager", Context::PubSub, &["o"], "open the channels and messages in the pager", true),
    (Action::Back, "pubsub_close", Context::PubSub, &["Esc"], "unsubscribe and close", true),
    (Action::Pager, "server_pager", Context::Server, &["o"], "open whole", true),
    (Action::Back, "server_back", Context::Server, &["Esc", "h", "Left"], "back to the keys", true),
    (Action::Filter, "search_edit", Context::Search, &["/", "i"], "edit the query (Esc leaves the editor)", true),
    (Action::EditFilter, "search_filter", Context::Search, &["f"], "edit the metadata filter", true),
    (Action::TopKUp, "top_k_up", Context::Search, &["+", "="], "more results (top_k)", true),
    (Action::TopKDown, "top_k_down", Context::Search, &["-"], "fewer results", false),
    (Action::NextNamespace, "namespace", Context::Search, &["n"], "next namespace", false),
    (Action::ThresholdUp, "threshold_up", Context::Search, &["]"], "raise the score threshold", false),
    (Action::ThresholdDown, "threshold_down", Context::Search, &["["], "lower the score threshold", false),
    (Action::ToggleValues, "include_values", Context::Search, &["v"], "include values", false),
    (Action::Pin, "pin", Context::Search, &["p"], "pin results / unpin (then diff)", true),
    (Action::WhyNot, "why_not", Context::Search, &["w"], "why not? rank an id for this query", true),
    (Action::Recall, "recall", Context::Search, &["R"], "recall@k of these results against an exact pass", true),
    (Action::ToggleSide, "detail", Context::Search, &["d"], "detail pane", false),
    (Action::Open, "search_open", Context::Search, &["Enter"], "open the message in Conversations", false),
    (Action::Refresh, "search_refresh", Context::Search, &["r"], "search again, reload stats", false),
    (Action::Up, "search_up", Context::Search, &["k", "Up"], "previous result", false),
    (Action::Down, "search_down", Context::Search, &["j", "Down"], "next result", false),
    (Action::Top, "search_top", Context::Search, &["g", "Home"], "first result", false),
    (Action::Bottom, "search_bottom", Context::Search, &["G", "End"], "last result", false),
];

#[derive(Debug)]
pub struct Binding {
    pub action: Action,
    pub name: &'static str,
    pub context: Context,
    pub keys: Vec<KeySpec>,
    pub help: &'static str,
    pub footer: bool,
}

#[derive(Debug)]
pub struct Keymap {
    pub bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::new(&BTreeMap::new()).unwrap_or_else(|_| Keymap { bindings: Vec::new() })
    }
}

impl Keymap {
    /// Defaults with `[keymap]` overrides (`action_name = "key"` or `"key1,key2"`).
    pub fn new(overrides: &BTreeMap<String, String>) -> Result<Keymap, String> {
        let mut bindings: Vec<Binding> = TABLE
            .iter()
            .map(|(action, name, context, keys, help, footer)| Binding {
                action: *action,
                name,
                context: *context,
                keys: keys.iter().filter_map(|k| KeySpec::parse(k).ok()).collect(),
                help,
                footer: *footer,
            })
            .collect();
        for (name, keys) in overrides {
            let b = bindings
                .iter_mut()
                .find(|b| b.name == name)
                .ok_or_else(|| format!("[keymap] unknown action `{name}`"))?;
            b.keys = keys
                .split(',')
                .map(|k| KeySpec::parse(k.trim()).map_err(|e| format!("[keymap] {name}: {e}")))
                .collect::<Result<_, _>>()?;
        }
        let km = Keymap { bindings };
        if !overrides.is_empty() {
            // An override must not hide an action where the defaults reached it.
            let defaults = Keymap::new(&BTreeMap::new())?;
            let before = defaults.unreachable();
            if let Some((ctx, b)) = km.unreachable().into_iter().find(|u| !before.contains(u)) {
                let name =
                    km.bindings.iter().find(|x| x.action == b && (x.context == ctx || x.context == Context::Global));
                let name = name.map(|x| x.name).unwrap_or("?");
                let culprit = overrides
                    .iter()
                    .find(|(n, _)| km.shadows(ctx, b, n))
                    .or_else(|| overrides.get_key_value(name))
                    .map(|(n, k)| format!("{n} = {k:?}"));
                return Err(format!(
                    "[keymap] {}: `{name}` can no longer be reached in {} (every key of it is taken by another action there)",
                    culprit.unwrap_or_else(|| name.to_string()),
                    ctx.title()
                ));
            }
        }
        Ok(km)
    }

    /// The action a key triggers in a context (its own bindings first, then the global ones).
    fn resolve(&self, ctx: Context, k: &KeySpec) -> Option<Action> {
        [ctx, Context::Global]
            .iter()
            .find_map(|c| self.bindings.iter().find(|b| b.context == *c && b.keys.contains(k)).map(|b| b.action))
    }

    /// (context, action) pairs that no key reaches: an action of the context, or a global one,
    /// whose every key resolves to something else there.
    fn unreachable(&self) -> Vec<(Context, Action)> {
        let mut out = Vec::new();
        for ctx in Context::ALL {
            for b in self.bindings.iter().filter(|b| b.context == ctx || b.context == Context::Global) {
                if !b.keys.iter().any(|k| self.resolve(ctx, k) == Some(b.action)) && !out.contains(&(ctx, b.action)) {
                    out.push((ctx, b.action));
                }
            }
        }
        out
    }

    /// Whether the override of the binding named `name` took a key of `action` in `ctx`.
    fn shadows(&self, ctx: Context, action: Action, name: &str) -> bool {
        let Some(over) = self.bindings.iter().find(|b| b.name == name) else { return false };
        let in_view = |b: &Binding| b.context == ctx || b.context == Context::Global;
        over.action != action
            && in_view(over)
            && self
                .bindings
                .iter()
                .filter(|b| b.action == action && in_view(b))
                .any(|b| b.keys.iter().any(|k| over.keys.contains(k)))
    }

    /// The action for a key: the context's own bindings first, then the global ones.
    pub fn lookup(&self, ctx: Context, ev: &KeyEvent) -> Option<Action> {
        [ctx, Context::Global].iter().find_map(|c| {
            self.bindings.iter().find(|b| b.context == *c && b.keys.iter().any(|k| k.matches(ev))).map(|b| b.action)
        })
    }

    /// First key label of an action in a context (for hints such as "press W").
    pub fn key_for(&self, ctx: Context, action: Action) -> String {
        self.bindings
            .iter()
            .find(|b| (b.context == ctx || b.context == Context::Global) && b.action == action)
            .and_then(|b| b.keys.first())
            .map(|k| k.label())
            .unwrap_or_else(|| "?".into())
    }

    /// Footer items for a context: (keys, label).
    /// The footer's keys, most important first: opening, searching, going back, then the
    /// rest in table order (the footer shows what fits; the help lists everything).
    pub fn footer(&self, ctx: Context) -> Vec<(String, &'static str)> {
        let rank = |a: Action| match a {
            Action::Open | Action::ToggleExpand => 0,
            Action::Pager => 1,
            Action::Filter => 2,
            Action::Back => 3,
            Action::Trace | Action::Audit | Action::NextPage => 4,
            _ => 5,
        };
        let mut b: Vec<&Binding> =
            self.bindings.iter().filter(|b| b.footer && (b.context == ctx || b.context == Context::Global)).collect();
        b.sort_by_key(|b| rank(b.action));
        b.into_iter().map(|b| (b.keys.first().map(|k| k.label()).unwrap_or_default(), b.help)).collect()
    }

    /// Help popup lines for the view the user is in: its own bindings, then the global ones.
    pub fn help(&self, ctx: Context) -> Vec<(&'static str, Vec<(String, &'static str)>)> {
        let title = Context::title;
        let mut ctxs = vec![ctx];
        if ctx != Context::Global {
            ctxs.push(Context::Global);
        }
        ctxs.into_iter()
            .map(|c| {
                let items = self
                    .bindings
                    .iter()
                    .filter(|b| b.context == c)
                    .map(|b| (b.keys.iter().map(|k| k.label()).collect::<Vec<_>>().join(" "), b.help))
                    .collect();
                (title(c), items)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(c, m)
    }

    #[test]
    fn lookup_context_then_global() {
        let km = Keymap::default();
        assert_eq!(km.lookup(Context::KeyList, &key(KeyCode::Char('j'), KeyModifiers::NONE)), Some(Action::Down));
        assert_eq!(km.lookup(Context::KeyList, &key(KeyCode::Char('q'), KeyModifiers::NONE)), Some(Action::Quit));
        assert_eq!(km.lookup(Context::Value, &key(KeyCode::Esc, KeyModifiers::NONE)), Some(Action::Back));
        assert_eq!(km.lookup(Context::KeyList, &key(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Action::Quit));
        assert_eq!(km.lookup(Context::KeyList, &key(KeyCode::Char('G'), KeyModifiers::SHIFT)), Some(Action::Bottom));
        assert_eq!(km.lookup(Context::KeyList, &key(KeyCode::Char('z'), KeyModifiers::NONE)), None);
    }

    #[test]
    fn overrides_and_errors() {
        let mut o = BTreeMap::new();
        o.insert("refresh".to_string(), "F5, Ctrl-r".to_string());
        let km = Keymap::new(&o).unwrap();
        assert_eq!(km.lookup(Context::KeyList, &key(KeyCode::F(5), KeyModifiers::NONE)), Some(Action::Refresh));
        assert_eq!(km.lookup(Context::KeyList, &key(KeyCode::Char('r'), KeyModifiers::CONTROL)), Some(Action::Refresh));
        assert_eq!(km.lookup(Context::KeyList, &key(KeyCode::Char('r'), KeyModifiers::NONE)), None);
        o.insert("nope".to_string(), "x".to_string());
        assert!(Keymap::new(&o).unwrap_err().contains("nope"));
    }

    #[test]
    fn an_override_that_hides_an_action_is_an_error() {
        // The override replaces quit's keys (q, Ctrl-c) with `j`, which is Down in every list:
        // quit would have no key left there.
        let o = BTreeMap::from([("quit".to_string(), "j".to_string())]);
        let e = Keymap::new(&o).unwrap_err();
        assert!(e.contains("quit = \"j\"") && e.contains("`quit` can no longer be reached"), "{e}");
        // Taking another action's only key hides that one, and the message names the override.
        let o = BTreeMap::from([("refresh".to_string(), "/".to_string())]);
        let e = Keymap::new(&o).unwrap_err();
        assert!(e.contains("refresh = \"/\""), "{e}");
        // Moving an action to a free key is fine.
        assert!(Keymap::new(&BTreeMap::from([("quit".to_string(), "Ctrl-q".to_string())])).is_ok());
    }

    #[test]
    fn every_action_is_documented_in_the_example_config() {
        for b in Keymap::default().bindings {
            assert!(
                crate::config::EXAMPLE.contains(&format!("# {:<18} = ", b.name)),
                "config.example.toml does not document [keymap] {}",
                b.name
            );
        }
    }

    #[test]
    fn footer_and_help_come_from_the_table() {
        let km = Keymap::default();
        let f = km.footer(Context::KeyList);
        assert!(f.iter().any(|(k, h)| k == "/" && h.contains("MATCH")));
        assert!(f.iter().any(|(k, _)| k == "q"));
        let help = km.help(Context::KeyList);
        assert_eq!(help.len(), 2);
        assert_eq!(help[0].0, "Redis Keys: list");
        assert!(help[0].1.iter().any(|(k, _)| k == "x Del"));
        assert_eq!(km.help(Context::Global).len(), 1);
    }
}
