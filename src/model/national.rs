//! National identifiers (SPEC.md §7.1): the BSN of a patient, checked with the
//! elfproef, and the URA number of an organisation.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not a BSN or an URA number
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NationalIdError {
    /// Not exactly the number of digits the identifier has
    #[error("{what} must be exactly {digits} digits, got {len} characters")]
    Length {
        /// `a BSN` or `an URA number`
        what: &'static str,
        /// How many digits it has
        digits: usize,
        /// How many characters the value has
        len: usize,
    },
    /// A character that is not a digit (its 1-based position)
    #[error("{what} must be digits only; character {position} is not a digit")]
    NotDigit {
        /// `a BSN` or `an URA number`
        what: &'static str,
        /// 1-based position of the first non-digit
        position: usize,
    },
    /// A BSN that fails the elfproef (11-check); the value is not repeated
    #[error("a BSN must pass the elfproef (11-check); this one does not")]
    Elfproef,
}

fn digits<const N: usize>(s: &str, what: &'static str) -> Result<[u8; N], NationalIdError> {
    if s.len() != N {
        return Err(NationalIdError::Length {
            what,
            digits: N,
            len: s.chars().count(),
        });
    }
    let mut out = [0u8; N];
    for (i, (slot, b)) in out.iter_mut().zip(s.bytes()).enumerate() {
        if !b.is_ascii_digit() {
            return Err(NationalIdError::NotDigit {
                what,
                position: i + 1,
            });
        }
        *slot = b - b'0';
    }
    Ok(out)
}

/// A burgerservicenummer: 9 digits passing the elfproef
/// (9·d1 + 8·d2 + … + 2·d8 − 1·d9 ≡ 0 mod 11)
///
/// Its `Debug` shows no digits: a BSN names a patient.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bsn([u8; 9]);

impl Bsn {
    /// Validates a BSN
    ///
    /// # Errors
    ///
    /// [`NationalIdError`] for a value that is not 9 digits or fails the elfproef.
    pub fn new(s: &str) -> Result<Self, NationalIdError> {
        let d = digits::<9>(s, "a BSN")?;
        let mut sum: i32 = 0;
        for (i, digit) in d.iter().enumerate() {
            let weight = if i == 8 {
                -1
            } else {
                9 - i32::try_from(i).unwrap_or(0)
            };
            sum += weight * i32::from(*digit);
        }
        if sum % 11 != 0 {
            return Err(NationalIdError::Elfproef);
        }
        Ok(Self(d))
    }
}

/// An URA number (UZI-register abonneenummer): the 8-digit national id of a
/// care organisation, the one Mitz uses
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ura([u8; 8]);

impl Ura {
    /// Validates an URA number
    ///
    /// # Errors
    ///
    /// [`NationalIdError`] for a value that is not 8 digits.
    pub fn new(s: &str) -> Result<Self, NationalIdError> {
        digits::<8>(s, "an URA number").map(Self)
    }
}

macro_rules! national {
    ($($name:ident),*) => {$(
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for d in self.0 {
                    write!(f, "{d}")?;
                }
                Ok(())
            }
        }

        impl FromStr for $name {
            type Err = NationalIdError;
            fn from_str(s: &str) -> Result<Self, NationalIdError> {
                Self::new(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::new(&s).map_err(serde::de::Error::custom)
            }
        }

        #[cfg(feature = "json-schema")]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let digits = std::mem::size_of::<$name>();
                schemars::json_schema!({
                    "type": "string",
                    "pattern": format!("^[0-9]{{{digits}}}$"),
                })
            }
        }
    )*};
}

national!(Bsn, Ura);

impl fmt::Debug for Bsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bsn(<9 digits>)")
    }
}

impl fmt::Debug for Ura {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ura(\"{self}\")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_elfproef_accepts_valid_and_refuses_one_digit_off() {
        // 999999990 and 111222333 are the test BSNs the Dutch government publishes
        for good in ["999999990", "111222333", "123456782"] {
            assert_eq!(Bsn::new(good).map(|b| b.to_string()), Ok(good.to_owned()));
        }
        assert_eq!(Bsn::new("123456789"), Err(NationalIdError::Elfproef));
        assert_eq!(Bsn::new("999999991"), Err(NationalIdError::Elfproef));
        assert!(matches!(
            Bsn::new("12345678"),
            Err(NationalIdError::Length { len: 8, .. })
        ));
        assert!(matches!(
            Bsn::new("12345678a"),
            Err(NationalIdError::NotDigit { position: 9, .. })
        ));
        assert!(matches!(
            Bsn::new("1234567٨2"),
            Err(NationalIdError::Length { .. })
        ));
    }

    #[test]
    fn every_single_digit_change_of_a_valid_bsn_fails_the_elfproef() {
        let base = *b"999999990";
        for i in 0..9 {
            for d in b'0'..=b'9' {
                if d == base[i] {
                    continue;
                }
                let mut v = base;
                v[i] = d;
                let s = std::str::from_utf8(&v).unwrap();
                assert!(Bsn::new(s).is_err(), "{s} passed");
            }
        }
    }

    #[test]
    fn ura_is_eight_digits_and_debug_hides_the_bsn() {
        assert_eq!(
            Ura::new("00000001").map(|u| u.to_string()),
            Ok("00000001".into())
        );
        assert!(Ura::new("0000001").is_err());
        let bsn = Bsn::new("999999990").unwrap();
        assert!(!format!("{bsn:?}").contains("999"));
        let json = serde_json::to_string(&bsn).unwrap();
        assert_eq!(json, "\"999999990\"");
        assert!(serde_json::from_str::<Bsn>("\"999999991\"").is_err());
    }
}
