//! Python pickles (protocols 0–5) read into a tree *without executing anything*: the pickle
//! machine's opcodes are followed on a stack of plain values, and where Python would import a
//! class and call it (GLOBAL, REDUCE, NEWOBJ, BUILD) the tree records the class by name, its
//! arguments and its state. Nothing is looked up, imported or run. Bounded: at most
//! [`MAX_NODES`] values, and a tree deeper than [`MAX_DEPTH`] is cut (said in it). One file past
//! 600 lines on purpose: the machine is one match over the protocol's opcodes, beside the few
//! value helpers it alone uses.

use serde_json::{Map, Value};

const MAX_NODES: usize = 1_000_000;
const MAX_DEPTH: usize = 200;

type Id = usize;

#[derive(Debug, Clone)]
enum N {
    None,
    Bool(bool),
    Int(i64),
    /// An integer wider than 64 bits, in decimal.
    Big(String),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Id>),
    Tuple(Vec<Id>),
    Dict(Vec<(Id, Id)>),
    Set(Vec<Id>),
    /// A class or function named by GLOBAL / STACK_GLOBAL (never imported).
    Global(String),
    /// What calling a class would have made: its name, arguments and the state BUILD gave it,
    /// and items appended or set on it (a list or dict subclass).
    Object {
        class: String,
        args: Vec<Id>,
        kwargs: Option<Id>,
        state: Option<Id>,
        list: Vec<Id>,
        dict: Vec<(Id, Id)>,
    },
    /// A persistent id (the pickler's external reference), as given.
    Persistent(String),
    /// An out-of-band buffer (protocol 5): not in these bytes.
    Buffer,
}

struct Machine<'a> {
    b: &'a [u8],
    at: usize,
    nodes: Vec<N>,
    stack: Vec<Id>,
    marks: Vec<usize>,
    memo: std::collections::HashMap<u64, Id>,
}

/// Whether these bytes start like a pickle: protocol 2+ (`\x80` and its number) or a protocol
/// 0/1 opcode, and end with STOP.
pub fn looks_like(b: &[u8]) -> bool {
    match b {
        [0x80, p, ..] => (2..=5).contains(p) && b.last() == Some(&b'.'),
        [first, ..] => b"(]}NKJIcX\x8c".contains(first) && b.last() == Some(&b'.') && b.len() >= 2,
        [] => false,
    }
}

/// The pickle as a tree (classes as `{"__class__": "module.Name", …}`), or why it is not one.
pub fn decode(b: &[u8]) -> Result<Value, String> {
    let mut m = Machine { b, at: 0, nodes: Vec::new(), stack: Vec::new(), marks: Vec::new(), memo: Default::default() };
    let root = m.run()?;
    if m.at != b.len() {
        return Err(format!("{} bytes after the pickle's STOP", b.len() - m.at));
    }
    Ok(m.json(root, 0))
}

impl Machine<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        if self.b.len() - self.at < n {
            return Err(format!("cut at byte {}: {n} more expected", self.at));
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn le(&mut self, n: usize) -> Result<u64, String> {
        Ok(self.take(n)?.iter().rev().fold(0u64, |a, x| (a << 8) | *x as u64))
    }

    fn line(&mut self) -> Result<String, String> {
        let rest = &self.b[self.at..];
        let end = rest.iter().position(|&c| c == b'\n').ok_or("a text opcode without its newline")?;
        let s = String::from_utf8_lossy(&rest[..end]).into_owned();
        self.at += end + 1;
        Ok(s)
    }

    fn push(&mut self, n: N) -> Result<(), String> {
        if self.nodes.len() >= MAX_NODES {
            return Err(format!("more than {MAX_NODES} values: not read further"));
        }
        self.nodes.push(n);
        self.stack.push(self.nodes.len() - 1);
        Ok(())
    }

    fn pop(&mut self) -> Result<Id, String> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(format!("stack underflow at byte {}", self.at));
        }
        Ok(self.stack.pop().expect("checked"))
    }

    fn top(&self) -> Result<Id, String> {
        self.stack.last().copied().ok_or_else(|| format!("empty stack at byte {}", self.at))
    }

    /// The values since the last MARK, the mark removed.
    fn pop_mark(&mut self) -> Result<Vec<Id>, String> {
        let m = self.marks.pop().ok_or_else(|| format!("no MARK before byte {}", self.at))?;
        Ok(self.stack.split_off(m.min(self.stack.len())))
    }

    fn sized(&mut self, len_bytes: usize) -> Result<Vec<u8>, String> {
        let n = self.le(len_bytes)? as usize;
        Ok(self.take(n)?.to_vec())
    }

    fn class_name(&self, id: Id) -> String {
        match &self.nodes[id] {
            N::Global(g) => g.clone(),
            N::Str(s) => s.clone(),
            _ => "?".into(),
        }
    }

    fn items(&self, id: Id) -> Vec<Id> {
        match &self.nodes[id] {
            N::Tuple(v) | N::List(v) => v.clone(),
            _ => vec![id],
        }
    }

    fn append(&mut self, target: Id, vals: Vec<Id>) -> Result<(), String> {
        match &mut self.nodes[target] {
            N::List(v) | N::Set(v) => v.extend(vals),
            N::Object { list, .. } => list.extend(vals),
            _ => return Err(format!("APPEND to a value that is no list at byte {}", self.at)),
        }
        Ok(())
    }

    fn set_items(&mut self, target: Id, kv: Vec<Id>) -> Result<(), String> {
        let pairs: Vec<(Id, Id)> = kv.chunks(2).filter(|c| c.len() == 2).map(|c| (c[0], c[1])).collect();
        match &mut self.nodes[target] {
            N::Dict(d) => d.extend(pairs),
            N::Object { dict, .. } => dict.extend(pairs),
            _ => return Err(format!("SETITEM on a value that is no dict at byte {}", self.at)),
        }
        Ok(())
    }

    fn object(&mut self, class: Id, args: Id, kwargs: Option<Id>) -> Result<(), String> {
        let class = self.class_name(class);
        let args = self.items(args);
        self.push(N::Object { class, args, kwargs, state: None, list: vec![], dict: vec![] })
    }

    fn run(&mut self) -> Result<Id, String> {
        loop {
            let op = self.u8()?;
            match op {
                0x80 => {
                    let p = self.u8()?;
                    if p > 5 {
                        return Err(format!("pickle protocol {p}: memscope reads 0–5"));
                    }
                }
                0x95 => {
                    self.le(8)?; // FRAME: its length only
                }
                b'.' => return self.pop(),
                b'(' => self.marks.push(self.stack.len()),
                b'0' => {
                    self.pop()?;
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'2' => {
                    let t = self.top()?;
                    self.stack.push(t);
                }
                b'N' => self.push(N::None)?,
                0x88 => self.push(N::Bool(true))?,
                0x89 => self.push(N::Bool(false))?,
                b'I' => {
                    let l = self.line()?;
                    let n = match l.as_str() {
                        "00" => N::Bool(false),
                        "01" => N::Bool(true),
                        s => s.parse::<i64>().map(N::Int).unwrap_or_else(|_| N::Big(s.to_string())),
                    };
                    self.push(n)?;
                }
                b'J' => {
                    let v = self.le(4)? as u32 as i32;
                    self.push(N::Int(v as i64))?;
                }
                b'K' => {
                    let v = self.u8()?;
                    self.push(N::Int(v as i64))?;
                }
                b'M' => {
                    let v = self.le(2)?;
                    self.push(N::Int(v as i64))?;
                }
                b'L' => {
                    let l = self.line()?;
                    let s = l.trim_end_matches('L');
                    self.push(s.parse::<i64>().map(N::Int).unwrap_or_else(|_| N::Big(s.to_string())))?;
                }
                0x8a | 0x8b => {
                    let n = if op == 0x8a { self.u8()? as usize } else { self.le(4)? as usize };
                    let bytes = self.take(n)?.to_vec();
                    self.push(long(&bytes))?;
                }
                b'F' => {
                    let l = self.line()?;
                    self.push(N::Float(l.trim().parse().unwrap_or(f64::NAN)))?;
                }
                b'G' => {
                    let b: [u8; 8] = self.take(8)?.try_into().expect("8 bytes");
                    self.push(N::Float(f64::from_be_bytes(b)))?;
                }
                b'S' => {
                    let l = self.line()?;
                    self.push(N::Str(unquote(&l)))?;
                }
                b'T' | b'U' => {
                    let b = self.sized(if op == b'T' { 4 } else { 1 })?;
                    // A Python 2 str: bytes, shown as text where they are.
                    self.push(match String::from_utf8(b) {
                        Ok(s) => N::Str(s),
                        Err(e) => N::Bytes(e.into_bytes()),
                    })?;
                }
                b'V' => {
                    // raw-unicode-escape: Latin-1 bytes, `\uXXXX` beyond.
                    let start = self.at;
                    self.line()?;
                    let l: String = self.b[start..self.at - 1].iter().map(|&x| x as char).collect();
                    self.push(N::Str(raw_unicode(&l)))?;
                }
                b'X' | 0x8c | 0x8d => {
                    let b = self.sized(match op {
                        b'X' => 4,
                        0x8c => 1,
                        _ => 8,
                    })?;
                    self.push(N::Str(String::from_utf8_lossy(&b).into_owned()))?;
                }
                b'B' | b'C' | 0x8e | 0x96 => {
                    let b = self.sized(match op {
                        b'B' => 4,
                        b'C' => 1,
                        _ => 8,
                    })?;
                    self.push(N::Bytes(b))?;
                }
                0x97 | 0x98 => {
                    if op == 0x97 {
                        self.push(N::Buffer)?;
                    }
                }
                b']' => self.push(N::List(vec![]))?,
                b')' => self.push(N::Tuple(vec![]))?,
                b'}' => self.push(N::Dict(vec![]))?,
                0x8f => self.push(N::Set(vec![]))?,
                b'l' => {
                    let v = self.pop_mark()?;
                    self.push(N::List(v))?;
                }
                b't' => {
                    let v = self.pop_mark()?;
                    self.push(N::Tuple(v))?;
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    if self.stack.len() < n {
                        return Err(format!("TUPLE{n} on a short stack at byte {}", self.at));
                    }
                    let v = self.stack.split_off(self.stack.len() - n);
                    self.push(N::Tuple(v))?;
                }
                b'd' => {
                    let kv = self.pop_mark()?;
                    let pairs = kv.chunks(2).filter(|c| c.len() == 2).map(|c| (c[0], c[1])).collect();
                    self.push(N::Dict(pairs))?;
                }
                0x91 => {
                    let v = self.pop_mark()?;
                    self.push(N::Set(v))?;
                }
                b'a' => {
                    let v = self.pop()?;
                    let t = self.top()?;
                    self.append(t, vec![v])?;
                }
                b'e' | 0x90 => {
                    let v = self.pop_mark()?;
                    let t = self.top()?;
                    self.append(t, v)?;
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    let t = self.top()?;
                    self.set_items(t, vec![k, v])?;
                }
                b'u' => {
                    let kv = self.pop_mark()?;
                    let t = self.top()?;
                    self.set_items(t, kv)?;
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    self.push(N::Global(format!("{module}.{name}")))?;
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let g = format!("{}.{}", self.class_name(module), self.class_name(name));
                    self.push(N::Global(g))?;
                }
                0x82..=0x84 => {
                    let code = self.le(match op {
                        0x82 => 1,
                        0x83 => 2,
                        _ => 4,
                    })?;
                    self.push(N::Global(format!("copyreg extension {code}")))?;
                }
                b'R' => {
                    let args = self.pop()?;
                    let f = self.pop()?;
                    self.object(f, args, None)?;
                }
                0x81 => {
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    self.object(cls, args, None)?;
                }
                0x92 => {
                    let kwargs = self.pop()?;
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    self.object(cls, args, Some(kwargs))?;
                }
                b'o' => {
                    let v = self.pop_mark()?;
                    let (cls, args) = v.split_first().ok_or("OBJ without a class")?;
                    let class = self.class_name(*cls);
                    self.push(N::Object {
                        class,
                        args: args.to_vec(),
                        kwargs: None,
                        state: None,
                        list: vec![],
                        dict: vec![],
                    })?;
                }
                b'i' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    let args = self.pop_mark()?;
                    let class = format!("{module}.{name}");
                    self.push(N::Object { class, args, kwargs: None, state: None, list: vec![], dict: vec![] })?;
                }
                b'b' => {
                    let st = self.pop()?;
                    let t = self.top()?;
                    if let N::Object { state, .. } = &mut self.nodes[t] {
                        *state = Some(st);
                    } else {
                        // State on a plain value (rare): kept beside it as an object.
                        self.pop()?;
                        let obj = N::Object {
                            class: "?".into(),
                            args: vec![t],
                            kwargs: None,
                            state: Some(st),
                            list: vec![],
                            dict: vec![],
                        };
                        self.push(obj)?;
                    }
                }
                b'P' => {
                    let l = self.line()?;
                    self.push(N::Persistent(l))?;
                }
                b'Q' => {
                    let id = self.pop()?;
                    let s = self.json(id, 0).to_string();
                    self.push(N::Persistent(s))?;
                }
                b'p' => {
                    let i = self.line()?.trim().parse::<u64>().map_err(|_| "PUT with no index")?;
                    let t = self.top()?;
                    self.memo.insert(i, t);
                }
                b'q' | b'r' => {
                    let i = self.le(if op == b'q' { 1 } else { 4 })?;
                    let t = self.top()?;
                    self.memo.insert(i, t);
                }
                0x94 => {
                    let t = self.top()?;
                    let i = self.memo.len() as u64;
                    self.memo.insert(i, t);
                }
                b'g' | b'h' | b'j' => {
                    let i = match op {
                        b'g' => self.line()?.trim().parse::<u64>().map_err(|_| "GET with no index")?,
                        b'h' => self.le(1)?,
                        _ => self.le(4)?,
                    };
                    let id = *self.memo.get(&i).ok_or_else(|| format!("memo {i} read before it was written"))?;
                    self.stack.push(id);
                }
                other => return Err(format!("opcode 0x{other:02x} at byte {} is no pickle opcode", self.at - 1)),
            }
        }
    }

    fn json(&self, id: Id, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::String(format!("… (deeper than {MAX_DEPTH} levels, or a cycle)"));
        }
        let j = |i: &Id| self.json(*i, depth + 1);
        match &self.nodes[id] {
            N::None => Value::Null,
            N::Bool(b) => Value::Bool(*b),
            N::Int(i) => Value::from(*i),
            N::Big(s) => Value::String(s.clone()),
            N::Float(f) if f.is_finite() => Value::from(*f),
            N::Float(f) => Value::String(f.to_string()),
            N::Str(s) => Value::String(s.clone()),
            N::Bytes(b) => Value::String(bytes_repr(b)),
            N::List(v) | N::Tuple(v) => Value::Array(v.iter().map(j).collect()),
            N::Set(v) => {
                let mut m = Map::new();
                m.insert("__set__".into(), Value::Array(v.iter().map(j).collect()));
                Value::Object(m)
            }
            N::Dict(kv) => Value::Object(self.dict(kv, depth)),
            N::Global(g) => Value::String(format!("<{g}>")),
            N::Persistent(p) => Value::String(format!("<persistent id {p}>")),
            N::Buffer => Value::String("<out-of-band buffer: not in these bytes>".into()),
            N::Object { class, args, kwargs, state, list, dict } => {
                let mut m = Map::new();
                m.insert("__class__".into(), Value::String(class.clone()));
                if let Some(t) = known(class, args.iter().map(|a| &self.nodes[*a]).collect()) {
                    m.insert("value".into(), Value::String(t));
                } else if !args.is_empty() {
                    m.insert("args".into(), Value::Array(args.iter().map(j).collect()));
                }
                if let Some(k) = kwargs {
                    m.insert("kwargs".into(), j(k));
                }
                if let Some(s) = state {
                    m.insert("state".into(), j(s));
                }
                if !list.is_empty() {
                    m.insert("items".into(), Value::Array(list.iter().map(j).collect()));
                }
                if !dict.is_empty() {
                    m.insert("dict".into(), Value::Object(self.dict(dict, depth)));
                }
                Value::Object(m)
            }
        }
    }

    /// A dict with JSON keys: strings as they are, other keys as their JSON text.
    fn dict(&self, kv: &[(Id, Id)], depth: usize) -> Map<String, Value> {
        kv.iter()
            .map(|(k, v)| {
                let key = match self.json(*k, depth + 1) {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (key, self.json(*v, depth + 1))
            })
            .collect()
    }
}

/// The classes whose arguments read better as text: datetime's packed bytes, Decimal.
fn known(class: &str, args: Vec<&N>) -> Option<String> {
    match (class, args.as_slice()) {
        ("datetime.datetime", [N::Bytes(_) | N::Str(_), ..]) if bytes_of(args[0]).len() == 10 => {
            let b = bytes_of(args[0]);
            let us = (b[7] as u32) << 16 | (b[8] as u32) << 8 | b[9] as u32;
            Some(format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{us:06}",
                (b[0] as u32) << 8 | b[1] as u32,
                b[2],
                b[3],
                b[4],
                b[5],
                b[6]
            ))
        }
        ("datetime.date", [N::Bytes(b)]) if b.len() == 4 => {
            Some(format!("{:04}-{:02}-{:02}", (b[0] as u32) << 8 | b[1] as u32, b[2], b[3]))
        }
        ("decimal.Decimal", [N::Str(s)]) => Some(s.clone()),
        _ => None,
    }
}

fn bytes_of(n: &N) -> Vec<u8> {
    match n {
        N::Bytes(b) => b.clone(),
        // Protocol 0–2 pickle datetime's bytes as a latin-1 str.
        N::Str(s) => s.chars().map(|c| c as u32 as u8).collect(),
        _ => vec![],
    }
}

/// LONG1 / LONG4: little-endian two's complement.
fn long(b: &[u8]) -> N {
    if b.is_empty() {
        return N::Int(0);
    }
    if b.len() <= 8 {
        let neg = b[b.len() - 1] & 0x80 != 0;
        let mut v: i64 = if neg { -1 } else { 0 };
        for x in b.iter().rev() {
            v = (v << 8) | *x as i64;
        }
        return N::Int(v);
    }
    // Wider: the magnitude in decimal (base-10^9 long division over its bytes).
    let neg = b[b.len() - 1] & 0x80 != 0;
    let mut mag: Vec<u8> = b.iter().rev().copied().collect(); // big-endian
    if neg {
        // Two's complement: invert and add one.
        for x in mag.iter_mut() {
            *x = !*x;
        }
        for x in mag.iter_mut().rev() {
            let (v, carry) = x.overflowing_add(1);
            *x = v;
            if !carry {
                break;
            }
        }
    }
    let mut parts: Vec<u32> = Vec::new();
    while mag.iter().any(|x| *x != 0) {
        let mut rem = 0u64;
        for x in mag.iter_mut() {
            let cur = (rem << 8) | *x as u64;
            *x = (cur / 1_000_000_000) as u8;
            rem = cur % 1_000_000_000;
        }
        parts.push(rem as u32);
    }
    let mut s = if neg { "-".to_string() } else { String::new() };
    s.push_str(&parts.last().copied().unwrap_or(0).to_string());
    for p in parts.iter().rev().skip(1) {
        s.push_str(&format!("{p:09}"));
    }
    N::Big(s)
}

/// A protocol-0 STRING argument: `'text'` with Python's escapes.
fn unquote(s: &str) -> String {
    let inner = s.trim();
    let inner = inner
        .strip_prefix('\'')
        .and_then(|x| x.strip_suffix('\''))
        .or_else(|| inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')))
        .unwrap_or(inner);
    let mut out = String::new();
    let mut it = inner.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('x') => {
                let h: String = it.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&h, 16).map(|b| b as char).unwrap_or('?'));
            }
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

/// A protocol-0 UNICODE argument (raw-unicode-escape: `\uXXXX`, `\UXXXXXXXX`).
fn raw_unicode(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' && matches!(it.peek(), Some('u') | Some('U')) {
            let n = if it.next() == Some('u') { 4 } else { 8 };
            let h: String = it.by_ref().take(n).collect();
            out.push(u32::from_str_radix(&h, 16).ok().and_then(char::from_u32).unwrap_or('\u{fffd}'));
        } else {
            out.push(c);
        }
    }
    out
}

/// Bytes as Python writes them: `b'ab\x00'`.
fn bytes_repr(b: &[u8]) -> String {
    let mut s = String::from("b'");
    for &x in b.iter().take(4096) {
        match x {
            b'\\' => s.push_str("\\\\"),
            b'\'' => s.push_str("\\'"),
            0x20..=0x7e => s.push(x as char),
            _ => s.push_str(&format!("\\x{x:02x}")),
        }
    }
    if b.len() > 4096 {
        s.push_str(&format!("… ({} bytes)", b.len()));
    }
    s.push('\'');
    s
}
