//! Messages the system sends through its outbox (e-mail, SMS): reminders to departments, warnings
//! to the office, answers to citizens.

crate::words! {
    /// How a message goes.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum MessageChannel as "发送渠道" {
        Email = "email" / "邮件",
        Sms = "sms" / "短信",
    }
}

crate::words! {
    /// Where a message of the outbox stands.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum MessageStatus as "发送状态" {
        /// Waiting for its (next) attempt.
        Pending = "pending" / "待发送",
        Sent = "sent" / "已发送",
        /// Given up after its last attempt.
        Failed = "failed" / "发送失败",
    }
}
