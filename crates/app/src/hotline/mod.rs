//! The live hotline (DOMAIN.md §3): orders taken by operators, filed by citizens on the web or by
//! Open311 clients, dispatched, signed for, returned, extended, replied, visited, redone and
//! closed (rules in `domain::workorder`); the citizen's query code; the caller's identity,
//! which only the office sees, each time audited; and the queues of each role.

mod intake;
mod public;
mod steps;
mod view;

pub(crate) use intake::CONTROL_CHARACTERS;
pub use intake::{Created, Intake, MAX_SUMMARY, NewOrder, OrderRequest, create_order, parse_order};
pub use public::{PublicOrder, PublicQuery, PublicView, order_of_token, public_orders, public_view};
pub use steps::{StepInput, flow_of, order_step, parse_step, reschedule_open};
pub use view::{CallerView, ListQuery, OrderLine, OrderView, Queue, caller_history, list_orders, order_view, queues};
