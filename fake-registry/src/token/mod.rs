//! Registry tokens: ES256 JWS with the claims distribution verifies, signed by a key whose
//! self-signed certificate is published (x5c header, `/_admin/token-cert.pem`), and verified
//! on every `/v2` request.

mod claims;
mod jws;
mod key_id;
mod signer;

pub use claims::Claims;
pub use key_id::libtrust_key_id;
pub use signer::{IssuedToken, TokenError, TokenSigner};
