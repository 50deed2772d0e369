//! Product ids on the wire: the original producers send them as JSON numbers, except the
//! deleted-product event, whose id came from a Django URL kwarg and so is a JSON string.

use std::fmt;

use serde::Deserializer;
use serde::de::{self, Visitor};

struct IdVisitor;

impl Visitor<'_> for IdVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a non-negative integer, or a string holding one")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        // Python's json.dumps never writes 5.0 for an int, but a hand-made message might.
        if v.fract() == 0.0 && v >= 0.0 && v <= u64::MAX as f64 {
            Ok(v as u64)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        v.trim()
            .parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(IdVisitor)
}

/// Like [`deserialize`], with `null` read as zero (a like count the producer left empty).
pub(crate) fn deserialize_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct OrZero;
    impl<'de> Visitor<'de> for OrZero {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            IdVisitor.expecting(f)
        }
        fn visit_unit<E: de::Error>(self) -> Result<u64, E> {
            Ok(0)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            IdVisitor.visit_u64(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            IdVisitor.visit_i64(v)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
            IdVisitor.visit_f64(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            IdVisitor.visit_str(v)
        }
    }
    d.deserialize_any(OrZero)
}

/// Reads a body that is a bare id: `5` or `"5"`.
pub(crate) fn from_json(body: &[u8]) -> Result<u64, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let id = deserialize(&mut de)?;
    de.end()?;
    Ok(id)
}
