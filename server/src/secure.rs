//! The binary's front door: `--config` read, the rule that only loopback is
//! served without tokens, TLS loaded, the guard put in front of the router,
//! and `zorg-pdp-server hash-token`.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use crate::app::BodyLimits;
use crate::config::{Config, ConfigError, Scope, TokenError, check_token, hex, token_hash};
use crate::guard::Guard;
use crate::listen::{self, Options, TlsError};

/// The address served when neither `--listen` nor the config names one
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);

/// Why the service does not start
#[derive(Debug, thiserror::Error)]
pub enum FrontError {
    /// The config file is wrong
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The TLS files are wrong
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A non-loopback address without tokens
    #[error(
        "--listen {addr}: not a loopback address; without bearer tokens this service serves \
         loopback addresses only (127.0.0.1, [::1]). To serve others, pass --config FILE with at \
         least one [[tokens]] entry (and a [tls] table, unless TLS ends in front of it): see \
         docs/server-security.md{}",
        match file { Some(f) => format!(" (the config `{}` has no tokens)", f.display()), None => String::new() }
    )]
    OpenBeyondLoopback {
        /// The address asked for
        addr: SocketAddr,
        /// The config file, if one was given
        file: Option<std::path::PathBuf>,
    },
}

/// The service's front, ready to serve
pub struct Front {
    /// The configuration ([`Config::default`] without `--config`)
    pub config: Config,
    /// The address to bind: `--listen`, else the config's, else
    /// [`DEFAULT_LISTEN`]
    pub listen: SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl std::fmt::Debug for Front {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // rustls' configuration holds the private key: only whether it is there
        f.debug_struct("Front")
            .field("config", &self.config)
            .field("listen", &self.listen)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Front {
    /// Reads `config_file` (if any), decides the address, refuses a
    /// non-loopback address without tokens, loads TLS
    pub fn prepare(
        config_file: Option<&Path>,
        listen_flag: Option<SocketAddr>,
    ) -> Result<Self, FrontError> {
        let config = match config_file {
            Some(f) => Config::load(f)?,
            None => Config::default(),
        };
        let listen = listen_flag.or(config.listen).unwrap_or(DEFAULT_LISTEN);
        if !listen.ip().is_loopback() && config.tokens.is_empty() {
            return Err(FrontError::OpenBeyondLoopback {
                addr: listen,
                file: config.file.clone(),
            });
        }
        let tls = config.tls.as_ref().map(listen::tls_config).transpose()?;
        Ok(Self {
            config,
            listen,
            tls,
        })
    }

    /// `https` with TLS, else `http`
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// The body limits for the router
    pub fn body_limits(&self) -> BodyLimits {
        BodyLimits {
            body: self.config.limits.body_bytes,
            entries: self.config.limits.entries_body_bytes,
        }
    }

    /// The lines said at start: who may call, TLS, the limits
    pub fn announce(&self) -> Vec<String> {
        let mut lines = Vec::new();
        match &self.config.file {
            None => lines.push(
                "no --config: loopback only, no tokens (every process on this machine may call \
                 every endpoint); the default limits"
                    .to_owned(),
            ),
            Some(f) => lines.push(format!(
                "config `{}`: {}",
                f.display(),
                self.config.summary()
            )),
        }
        if self.config.file.is_some() && self.config.tokens.is_empty() {
            lines.push("the config has no [[tokens]]: loopback only, no authentication".to_owned());
        }
        if !self.listen.ip().is_loopback() && self.tls.is_none() {
            lines.push(format!(
                "warning: {} is not loopback and there is no [tls]: bearer tokens travel in clear \
                 text unless TLS ends in front of this service",
                self.listen
            ));
        }
        lines
    }

    /// The words after the address in the "listening on" line
    pub fn mode(&self) -> &'static str {
        if self.config.tokens.is_empty() {
            "(loopback only, no tokens)"
        } else {
            "(bearer tokens required)"
        }
    }

    /// Puts the guard in front of `router` and serves it on `listener` until
    /// `shutdown`
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        router: axum::Router,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = Guard::new(&self.config).wrap(router);
        let options = Options {
            header_timeout: self.config.limits.header_timeout,
            tls: self.tls.clone(),
        };
        listen::serve(listener, router, options, shutdown).await
    }
}

/// `hash-token` could not make its line
#[derive(Debug, thiserror::Error)]
pub enum HashTokenError {
    /// Standard input did not read
    #[error("reading the token from standard input: {0}")]
    Read(#[from] std::io::Error),
    /// The token's form is refused
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The name is not a config name
    #[error("--name {0:?}: a name has 1 to 64 letters, digits, `-`, `_` or `.`")]
    Name(String),
    /// No randomness for `--generate`
    #[error("--generate: the system's random source failed")]
    Random,
}

/// What `hash-token` prints: the `[[tokens]]` entry (standard output) and,
/// with `--generate`, the new token (standard error, never in the config)
#[derive(Debug)]
pub struct HashedToken {
    /// The lines to paste into the config
    pub entry: String,
    /// The token made by `--generate`, to hand to the client
    pub generated: Option<String>,
}

/// `zorg-pdp-server hash-token`: the config entry of the token read from
/// `input` (its first line), or of a new random one with `generate`
pub fn hash_token(
    name: &str,
    scopes: &[Scope],
    generate: bool,
    input: &mut dyn Read,
) -> Result<HashedToken, HashTokenError> {
    if !crate::config::valid_name(name) {
        return Err(HashTokenError::Name(name.to_owned()));
    }
    let (token, generated) = if generate {
        let mut bytes = [0u8; 32];
        rustls::crypto::ring::default_provider()
            .secure_random
            .fill(&mut bytes)
            .map_err(|_| HashTokenError::Random)?;
        let t = hex(&bytes);
        (t.clone(), Some(t))
    } else {
        let mut text = String::new();
        input.take(64 * 1024).read_to_string(&mut text)?;
        let line = text
            .lines()
            .next()
            .unwrap_or("")
            .trim_end_matches('\r')
            .to_owned();
        (line, None)
    };
    check_token(&token)?;
    let mut scopes = scopes.to_vec();
    if scopes.is_empty() {
        scopes.push(Scope::Decide);
    }
    scopes.sort_unstable();
    scopes.dedup();
    let list: Vec<String> = scopes.iter().map(|s| format!("\"{s}\"")).collect();
    let entry = format!(
        "[[tokens]]\nname = \"{name}\"\nsha256 = \"{}\"\nscopes = [{}]\n",
        hex(&token_hash(&token)),
        list.join(", ")
    );
    Ok(HashedToken { entry, generated })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_without_tokens() {
        let f = Front::prepare(None, None).unwrap();
        assert_eq!(f.listen, DEFAULT_LISTEN);
        assert_eq!(f.scheme(), "http");
        assert!(f.announce()[0].contains("loopback only, no tokens"));
        let f = Front::prepare(None, Some("[::1]:0".parse().unwrap())).unwrap();
        assert!(f.listen.ip().is_loopback());
        let e = Front::prepare(None, Some("0.0.0.0:8080".parse().unwrap())).unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("--listen 0.0.0.0:8080") && m.contains("loopback"),
            "{m}"
        );
        assert!(m.contains("[[tokens]]"), "{m}");
    }

    #[test]
    fn beyond_loopback_with_tokens_and_no_tls_it_warns() {
        let dir = std::env::temp_dir().join(format!("zorg-secure-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("server.toml");
        let entry = hash_token("ehr-a", &[], false, &mut "f".repeat(64).as_bytes()).unwrap();
        std::fs::write(&file, format!("listen = \"0.0.0.0:8443\"\n{}", entry.entry)).unwrap();
        // Nothing is bound: `prepare` only decides
        let f = Front::prepare(Some(&file), None).unwrap();
        assert_eq!(
            f.listen,
            "0.0.0.0:8443".parse().unwrap(),
            "the config's address"
        );
        assert_eq!(f.mode(), "(bearer tokens required)");
        let said = f.announce().join("\n");
        assert!(said.contains("1 token(s): ehr-a (decide)"), "{said}");
        assert!(
            said.contains("warning") && said.contains("clear text"),
            "{said}"
        );
        let f = Front::prepare(Some(&file), Some("127.0.0.1:9".parse().unwrap())).unwrap();
        assert_eq!(f.listen, "127.0.0.1:9".parse().unwrap(), "--listen wins");
        assert!(!f.announce().join("\n").contains("warning"));
        assert!(!format!("{f:?}").contains(&hex(&token_hash(&"f".repeat(64)))));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn hash_token_makes_the_entry_of_the_token_on_stdin() {
        let token = "f".repeat(64);
        let out = hash_token(
            "ehr-a",
            &[Scope::Ingest, Scope::Decide],
            false,
            &mut format!("{token}\n").as_bytes(),
        )
        .unwrap();
        assert!(out.generated.is_none());
        assert!(!out.entry.contains(&token));
        let c = Config::parse(&out.entry, Path::new("x.toml")).unwrap();
        let t = c.tokens.first().unwrap();
        assert_eq!(t.name, "ehr-a");
        assert_eq!(t.sha256, token_hash(&token));
        assert_eq!(t.scopes, vec![Scope::Decide, Scope::Ingest]);

        let e = hash_token("a", &[], false, &mut "short\n".as_bytes()).unwrap_err();
        assert!(
            matches!(e, HashTokenError::Token(TokenError::Length(5))),
            "{e}"
        );
        let e = hash_token("a b", &[], false, &mut token.as_bytes()).unwrap_err();
        assert!(matches!(e, HashTokenError::Name(_)), "{e}");
    }

    #[test]
    fn hash_token_generates_256_random_bits() {
        let a = hash_token("a", &[], true, &mut std::io::empty()).unwrap();
        let b = hash_token("a", &[], true, &mut std::io::empty()).unwrap();
        let (ta, tb) = (a.generated.unwrap(), b.generated.unwrap());
        assert_eq!(ta.len(), 64);
        assert_ne!(ta, tb);
        let c = Config::parse(&a.entry, Path::new("x.toml")).unwrap();
        assert_eq!(c.tokens.first().unwrap().sha256, token_hash(&ta));
        assert_eq!(c.tokens.first().unwrap().scopes, vec![Scope::Decide]);
    }
}
