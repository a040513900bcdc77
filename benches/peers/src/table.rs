//! The per-event driver shared by the engines that decide one condition at a time (CEL, Cedar):
//! the checks flattened into nodes, the rules each event type triggers (PAL's `on_event`
//! table), and PAL's exception semantics on top of an engine's condition oracle.

use crate::checks::{Check, CheckSet};
use crate::pal_ref::Fired;

/// A rule or exception.
#[derive(Debug, Clone)]
pub struct Node {
    /// Its name.
    pub name: String,
    /// The outcome its actions record, if any.
    pub outcome: Option<String>,
    /// Its exceptions (node indices), in policy order.
    pub exceptions: Vec<usize>,
}

/// The checks as nodes, with the rules each event type triggers.
#[derive(Debug, Clone)]
pub struct Table {
    /// Every rule and exception.
    pub nodes: Vec<Node>,
    /// Per event type id: the top-level rules it triggers, in order.
    pub by_kind: Vec<Vec<usize>>,
}

impl Table {
    /// Flattens `set`; `kinds` is the number of event types in the schema.
    pub fn new(set: &CheckSet, kinds: usize) -> Table {
        fn add(c: &Check, nodes: &mut Vec<Node>) -> usize {
            let me = nodes.len();
            nodes.push(Node {
                name: c.name.clone(),
                outcome: c.outcome.clone(),
                exceptions: Vec::new(),
            });
            let xs: Vec<usize> = c.exceptions.iter().map(|x| add(x, nodes)).collect();
            nodes[me].exceptions = xs;
            me
        }
        let mut nodes = Vec::new();
        let mut by_kind = vec![Vec::new(); kinds];
        for r in &set.rules {
            let id = add(&r.check, &mut nodes);
            if let Some(list) = by_kind.get_mut(r.event as usize) {
                list.push(id);
            }
        }
        Table { nodes, by_kind }
    }

    /// The node whose actions apply when `r` holds: `r`, or the deepest applicable exception
    /// (several applicable exceptions are a conflict in PAL, and the rule's own actions stand).
    fn acting<E>(
        &self,
        r: usize,
        holds: &mut impl FnMut(usize) -> Result<bool, E>,
    ) -> Result<usize, E> {
        let mut one = None;
        let mut many = false;
        for &x in &self.nodes[r].exceptions {
            if holds(x)? {
                many |= one.is_some();
                one = Some(x);
            }
        }
        match one {
            Some(x) if !many => self.acting(x, holds),
            _ => Ok(r),
        }
    }

    /// Decides the rules an event of type `kind` triggers, given the engine's answer for each
    /// node's condition on this event; pushes `(event, node)` for each one that records an
    /// outcome.
    pub fn on_event<E>(
        &self,
        kind: usize,
        event: usize,
        mut holds: impl FnMut(usize) -> Result<bool, E>,
        out: &mut Vec<(u32, u32)>,
    ) -> Result<(), E> {
        let Some(rules) = self.by_kind.get(kind) else {
            return Ok(());
        };
        for &r in rules {
            if holds(r)? {
                let a = self.acting(r, &mut holds)?;
                if self.nodes[a].outcome.is_some() {
                    out.push((event as u32, a as u32));
                }
            }
        }
        Ok(())
    }

    /// `(event, node)` pairs as sorted fired triples.
    pub fn fired(&self, list: &[(u32, u32)]) -> Vec<Fired> {
        let mut out: Vec<Fired> = list
            .iter()
            .filter_map(|&(i, n)| {
                let node = self.nodes.get(n as usize)?;
                Some((i as usize, node.name.clone(), node.outcome.clone()?))
            })
            .collect();
        out.sort();
        out
    }
}
