//! The conversation list: loading it page by page, the filter, moving in it.

use super::*;
use crate::message::LongTermCmd;

impl ConversationsTab {
    pub(super) fn reload(&mut self, cx: &mut Cx) -> Vec<Command> {
        self.live.req.forget();
        self.fresh.clear();
        let req = self.list_req.issue(cx);
        self.next = None;
        let creq = self.count_req.issue(cx);
        self.count = None;
        vec![
            Command::LongTerm(
                req,
                LongTermCmd::Conversations { filter: self.filter.clone(), after: None, limit: LIST_PAGE },
            ),
            Command::LongTerm(creq, LongTermCmd::Count { filter: self.filter.clone() }),
        ]
    }

    pub(super) fn more(&mut self, cx: &mut Cx) -> Vec<Command> {
        match (&self.next, self.list_req.waiting()) {
            (Some(c), false) => {
                let req = self.list_req.issue(cx);
                vec![Command::LongTerm(
                    req,
                    LongTermCmd::Conversations {
                        filter: self.filter.clone(),
                        after: Some(c.clone()),
                        limit: LIST_PAGE,
                    },
                )]
            }
            _ => vec![],
        }
    }

    pub(super) fn clamp(&mut self) {
        (self.selected, self.offset) =
            crate::tabs::scroll::keep_visible(self.selected, self.offset, self.convs.len(), self.view_rows);
    }

    pub fn set_filter(&mut self, text: &str, cx: &mut Cx) -> Vec<Command> {
        self.filter = ConvFilter::parse(text);
        self.selected = 0;
        self.offset = 0;
        self.reload(cx)
    }

    pub(super) fn list_action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        let n = self.convs.len();
        let page = self.view_rows.max(1);
        if let Some(i) = crate::tabs::scroll::moved(action, self.selected, n, page) {
            self.selected = i;
        }
        match action {
            Action::Open => return self.open_thread(cx),
            Action::Refresh => {
                self.error = None;
                return self.reload(cx);
            }
            Action::Browse => return self.open_browser(None, cx),
            Action::Copy => {
                if let Some(c) = self.convs.get(self.selected) {
                    cx.ask(Ask::Copy { what: "the conversation id".into(), text: c.id.clone() });
                }
                return vec![];
            }
            _ => {}
        }
        self.clamp();
        // Fetch the next page before the cursor reaches the end of what is loaded.
        if self.selected + page >= n { self.more(cx) } else { vec![] }
    }
}
