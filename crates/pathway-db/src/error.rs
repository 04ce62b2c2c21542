//! Errors of database sources and publishing. None of them ever carries a password: URLs are
//! shown redacted and driver messages are scrubbed.

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong with a database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL cannot be used.
    #[error("database URL `{url}`: {message}")]
    Url {
        /// The URL, password redacted.
        url: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// This build has no support for the engine.
    #[error(
        "{engine} support is not built into this pathway: build it with `--features {feature}` \
         (or `--all-features`)"
    )]
    NotBuilt {
        /// PostgreSQL or MySQL.
        engine: &'static str,
        /// The cargo feature to enable.
        feature: &'static str,
    },
    /// The database cannot be reached, or refuses the login.
    #[error("cannot connect to {url}: {message}")]
    Connect {
        /// The URL, password redacted.
        url: String,
        /// The driver's message.
        message: String,
    },
    /// A table or query cannot be read.
    #[error("{url}: cannot read {relation}: {message}")]
    Relation {
        /// The URL, password redacted.
        url: String,
        /// `table schema.name` or `query SELECT ...`.
        relation: String,
        /// The driver's message.
        message: String,
    },
    /// Writing results to the database failed; the transaction was rolled back.
    #[error("cannot publish to {url}: {message} (nothing was written)")]
    Publish {
        /// The URL, password redacted.
        url: String,
        /// What failed.
        message: String,
    },
}
