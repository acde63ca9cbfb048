//! Where the scheduler's tokens come from: the [`Tokens`] trait, and its
//! real implementation over a GNU make jobserver's helper thread. A running
//! step holds one [`Token`] for its life; dropping it gives the slot back.

use std::io;

/// One job slot, given back when dropped.
pub struct Token(#[allow(dead_code)] Box<dyn Send>);

impl Token {
    /// A token whose slot is given back when `guard` is dropped.
    pub fn new(guard: impl Send + 'static) -> Token {
        Token(Box::new(guard))
    }
}

/// Where an acquired token (or the failure to get one) is handed, possibly
/// from another thread.
pub type Deliver = Box<dyn Fn(io::Result<Token>) + Send + Sync>;

/// A source of job slots.
pub trait Tokens {
    /// Start serving requests: every token asked for through the returned
    /// [`Requests`] is later handed to `deliver`. Dropping the `Requests`
    /// stops serving; tokens not yet delivered are abandoned.
    fn connect(&self, deliver: Deliver) -> io::Result<Box<dyn Requests>>;
}

/// Asking a connected [`Tokens`] for slots.
pub trait Requests {
    /// Ask for one more token; it arrives through the `deliver` callback.
    fn request(&self);
}

impl Tokens for jobserver::Client {
    fn connect(&self, deliver: Deliver) -> io::Result<Box<dyn Requests>> {
        let helper = self
            .clone()
            .into_helper_thread(move |t| deliver(t.map(Token::new)))?;
        Ok(Box::new(helper))
    }
}

impl Requests for jobserver::HelperThread {
    fn request(&self) {
        self.request_token();
    }
}
