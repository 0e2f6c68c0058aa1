//! Redis Cluster for [`super::RedisStore`]: hash slots, the topology `CLUSTER NODES`
//! reports, and batches of keyed commands split per slot (a cluster refuses a pipeline whose
//! keys live in different slots).

use redis::Value;

/// The hash slot of a key: CRC16/XMODEM of the key, or of its hash tag (the part between the
/// first `{` and the next `}` when not empty), mod 16384 — the Redis Cluster specification.
pub fn slot_of(key: &[u8]) -> u16 {
    let tagged = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            rest.iter().position(|&b| b == b'}').filter(|&close| close > 0).map(|close| &rest[..close])
        })
        .unwrap_or(key);
    crc16(tagged) % 16384
}

fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

/// One node of `CLUSTER NODES`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterNode {
    pub id: String,
    /// `host:port` clients use (the bus port and hostname dropped).
    pub addr: String,
    pub master: bool,
    pub myself: bool,
    /// Marked `fail` or `fail?` by the cluster.
    pub failing: bool,
    /// Slot ranges it serves (masters only), inclusive.
    pub slots: Vec<(u16, u16)>,
}

impl ClusterNode {
    pub fn host_port(&self) -> Option<(String, u16)> {
        let (h, p) = self.addr.rsplit_once(':')?;
        Some((h.trim_start_matches('[').trim_end_matches(']').to_string(), p.parse().ok()?))
    }

    pub fn serves(&self, slot: u16) -> bool {
        self.slots.iter().any(|&(a, b)| a <= slot && slot <= b)
    }
}

/// Parse `CLUSTER NODES`: `id addr@bus[,hostname] flags master-id ping pong epoch link slot…`.
pub fn parse_nodes(text: &str) -> Vec<ClusterNode> {
    let mut out: Vec<ClusterNode> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 8 {
                return None;
            }
            let flags: Vec<&str> = f[2].split(',').collect();
            let addr = f[1].split(['@', ',']).next().unwrap_or(f[1]).to_string();
            let slots = f[8..]
                .iter()
                .filter(|s| !s.starts_with('['))
                .filter_map(|s| match s.split_once('-') {
                    Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                    None => s.parse().ok().map(|x| (x, x)),
                })
                .collect();
            Some(ClusterNode {
                id: f[0].to_string(),
                addr,
                master: flags.contains(&"master"),
                myself: flags.contains(&"myself"),
                failing: flags.iter().any(|x| *x == "fail" || *x == "fail?"),
                slots,
            })
        })
        .collect();
    out.sort_by(|a, b| a.addr.cmp(&b.addr));
    out
}

/// How many of the 16384 slots no reachable master serves.
pub fn uncovered_slots(nodes: &[ClusterNode]) -> u32 {
    let mut covered = vec![false; 16384];
    for n in nodes.iter().filter(|n| n.master && !n.failing) {
        for &(a, b) in &n.slots {
            for s in a..=b.min(16383) {
                covered[s as usize] = true;
            }
        }
    }
    covered.iter().filter(|c| !**c).count() as u32
}

/// One pipeline of a split batch: its group (a slot, or a node), the batch's commands it holds,
/// and the positions its replies take in the batch's reply list.
pub struct Group {
    pub group: usize,
    pub cmds: Vec<usize>,
    pub positions: Vec<usize>,
    pub pipeline: redis::Pipeline,
}

/// Commands that each touch one key. On one server they go as one pipeline; on a cluster as
/// one pipeline per node (reads) or per hash slot, run concurrently, the replies put back in
/// the order given.
#[derive(Default)]
pub struct KeyedBatch {
    /// (slot, command, its reply is dropped)
    cmds: Vec<(u16, redis::Cmd, bool)>,
}

impl KeyedBatch {
    pub fn add(&mut self, key: &[u8], cmd: redis::Cmd) -> &mut Self {
        self.cmds.push((slot_of(key), cmd, false));
        self
    }

    /// A command whose reply is not wanted (it still runs, in order).
    pub fn add_quiet(&mut self, key: &[u8], cmd: redis::Cmd) -> &mut Self {
        self.cmds.push((slot_of(key), cmd, true));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.cmds.is_empty()
    }

    /// Everything as one pipeline (one server).
    pub fn pipeline(&self, ignore_errors: bool) -> redis::Pipeline {
        Self::build(self.cmds.iter(), ignore_errors)
    }

    fn build<'a>(cmds: impl Iterator<Item = &'a (u16, redis::Cmd, bool)>, ignore_errors: bool) -> redis::Pipeline {
        let mut p = redis::pipe();
        if ignore_errors {
            p.ignore_errors();
        }
        for (_, c, quiet) in cmds {
            p.add_command(c.clone());
            if *quiet {
                p.ignore();
            }
        }
        p
    }

    /// One pipeline per slot, each with the positions its replies take in the whole batch's
    /// reply list (quiet commands have none).
    pub fn per_slot(&self, ignore_errors: bool) -> Vec<(Vec<usize>, redis::Pipeline)> {
        self.per_group(|s| s as usize, ignore_errors).into_iter().map(|g| (g.positions, g.pipeline)).collect()
    }

    /// One pipeline per group of slots (`group_of(slot)`: the node that serves it), in one
    /// pass over the commands — a node runs a pipeline of single-key commands over any of its
    /// slots; only multi-key commands must share a slot. Each group keeps its commands' order.
    pub fn per_group(&self, group_of: impl Fn(u16) -> usize, ignore_errors: bool) -> Vec<Group> {
        let mut at: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
        let mut groups: Vec<(usize, Vec<usize>, Vec<usize>)> = Vec::new();
        let mut n = 0;
        for (i, (slot, _, quiet)) in self.cmds.iter().enumerate() {
            let g = group_of(*slot);
            let k = *at.entry(g).or_insert_with(|| {
                groups.push((g, Vec::new(), Vec::new()));
                groups.len() - 1
            });
            groups[k].1.push(i);
            if !*quiet {
                groups[k].2.push(n);
                n += 1;
            }
        }
        groups
            .into_iter()
            .map(|(group, cmds, positions)| Group {
                group,
                pipeline: Self::build(cmds.iter().map(|&i| &self.cmds[i]), ignore_errors),
                cmds,
                positions,
            })
            .collect()
    }

    /// The commands at `idx`, as a batch of their own (a group sent again another way).
    pub fn subset(&self, idx: &[usize]) -> KeyedBatch {
        KeyedBatch { cmds: idx.iter().map(|&i| self.cmds[i].clone()).collect() }
    }

    /// The replies of [`per_slot`]'s pipelines back in batch order.
    pub fn reassemble(parts: Vec<(Vec<usize>, Vec<Value>)>) -> Vec<Value> {
        let n = parts.iter().map(|(p, _)| p.len()).sum();
        let mut out = vec![Value::Nil; n];
        for (positions, values) in parts {
            for (p, v) in positions.into_iter().zip(values) {
                out[p] = v;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_specification() {
        // The examples of the Redis Cluster specification and CLUSTER KEYSLOT.
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(slot_of(b"foo"), 12182);
        assert_eq!(slot_of(b"{user1000}.following"), slot_of(b"{user1000}.followers"));
        assert_eq!(slot_of(b"foo{}{bar}"), slot_of(b"foo{}{bar}"), "an empty tag hashes the whole key");
        assert_ne!(slot_of(b"foo{}{bar}"), slot_of(b"bar"));
        assert_eq!(slot_of(b"foo{{bar}}zap"), slot_of(b"{bar"));
    }

    #[test]
    fn nodes_parse_with_bus_ports_hostnames_and_slot_ranges() {
        let text = "\
07c3 127.0.0.1:30004@40004,host-a slave e7d1 0 1 3 connected
e7d1 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460
67ed 127.0.0.1:30002@40002 master,fail - 0 1 2 connected 5461-10922 [5461->-e7d1]
292f 127.0.0.1:30003@40003 master - 0 1 3 connected 10923-16383
";
        let n = parse_nodes(text);
        assert_eq!(
            n.iter().map(|x| x.addr.as_str()).collect::<Vec<_>>(),
            ["127.0.0.1:30001", "127.0.0.1:30002", "127.0.0.1:30003", "127.0.0.1:30004"]
        );
        assert!(n[0].myself && n[0].master && n[0].serves(0) && !n[0].serves(5461));
        assert!(n[1].failing && n[1].slots == vec![(5461, 10922)]);
        assert!(!n[3].master);
        assert_eq!(n[2].host_port(), Some(("127.0.0.1".into(), 30003)));
        assert_eq!(uncovered_slots(&n), 10922 - 5461 + 1, "a failing master's slots are uncovered");
    }

    #[test]
    fn a_batch_splits_per_slot_and_replies_come_back_in_order() {
        let mut b = KeyedBatch::default();
        let keys: [&[u8]; 4] = [b"a", b"{a}x", b"b", b"c"];
        for k in keys {
            b.add_quiet(k, redis::cmd("PING").clone());
            b.add(k, redis::cmd("GET").arg(k).clone());
        }
        let parts = b.per_slot(true);
        assert_eq!(parts.len(), 3, "a and {{a}}x share a slot");
        // By node: the groups a slot map gives, replies still in batch order.
        let by_node = b.per_group(|s| usize::from(s >= 8192), true);
        assert_eq!(by_node.iter().map(|g| g.cmds.len()).sum::<usize>(), 8);
        assert!(by_node.len() <= 2);
        let sub = b.subset(&by_node[0].cmds);
        assert_eq!(sub.cmds.len(), by_node[0].cmds.len());
        let back: Vec<(Vec<usize>, Vec<Value>)> = by_node
            .into_iter()
            .map(|g| {
                let vals = g.positions.iter().map(|p| Value::Int(*p as i64)).collect();
                (g.positions, vals)
            })
            .collect();
        assert_eq!(KeyedBatch::reassemble(back), (0..4).map(Value::Int).collect::<Vec<_>>());
        let replies: Vec<(Vec<usize>, Vec<Value>)> = parts
            .into_iter()
            .map(|(pos, _)| {
                let vals = pos.iter().map(|p| Value::Int(*p as i64)).collect();
                (pos, vals)
            })
            .collect();
        assert_eq!(KeyedBatch::reassemble(replies), (0..4).map(Value::Int).collect::<Vec<_>>());
    }
}
