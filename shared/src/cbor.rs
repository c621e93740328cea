//! Strict reading of CBOR maps with small integer keys, shared by the pass body and the trust
//! bundle: every key known, none twice, every value of the expected type and range.

use ciborium::Value;

use crate::wire::WireError;

/// A map's values by key `1..=max_key`, each taken at most once.
pub(crate) struct Fields(Vec<Option<Value>>);

impl Fields {
    pub(crate) fn from_value(
        v: Value,
        what: &'static str,
        max_key: i64,
    ) -> Result<Fields, WireError> {
        let Value::Map(entries) = v else {
            return Err(WireError::WrongType(what));
        };
        let mut slots: Vec<Option<Value>> = vec![None; max_key as usize + 1];
        for (k, v) in entries {
            let key = match k {
                Value::Integer(i) => i128::from(i),
                other => return Err(WireError::UnknownField(format!("{what} key {other:?}"))),
            };
            if !(1..=i128::from(max_key)).contains(&key) {
                return Err(WireError::UnknownField(format!("{what} key {key}")));
            }
            let slot = &mut slots[key as usize];
            if slot.is_some() {
                return Err(WireError::DuplicateKey(format!("{what} key {key}")));
            }
            *slot = Some(v);
        }
        Ok(Fields(slots))
    }

    pub(crate) fn take(&mut self, key: i64) -> Option<Value> {
        self.0.get_mut(key as usize).and_then(Option::take)
    }

    pub(crate) fn required(&mut self, key: i64, name: &'static str) -> Result<Value, WireError> {
        self.take(key).ok_or(WireError::MissingField(name))
    }

    pub(crate) fn text(&mut self, key: i64, name: &'static str) -> Result<String, WireError> {
        as_text(self.required(key, name)?, name)
    }

    pub(crate) fn uint(
        &mut self,
        key: i64,
        name: &'static str,
        max: u64,
    ) -> Result<u64, WireError> {
        as_uint(self.required(key, name)?, name, max)
    }

    pub(crate) fn int(&mut self, key: i64, name: &'static str) -> Result<i64, WireError> {
        as_int(self.required(key, name)?, name)
    }

    pub(crate) fn array(&mut self, key: i64, name: &'static str) -> Result<Vec<Value>, WireError> {
        match self.required(key, name)? {
            Value::Array(items) => Ok(items),
            _ => Err(WireError::WrongType(name)),
        }
    }
}

pub(crate) fn as_text(v: Value, name: &'static str) -> Result<String, WireError> {
    match v {
        Value::Text(s) => Ok(s),
        _ => Err(WireError::WrongType(name)),
    }
}

pub(crate) fn as_bytes(v: Value, name: &'static str) -> Result<Vec<u8>, WireError> {
    match v {
        Value::Bytes(b) => Ok(b),
        _ => Err(WireError::WrongType(name)),
    }
}

pub(crate) fn as_uint(v: Value, name: &'static str, max: u64) -> Result<u64, WireError> {
    let Value::Integer(i) = v else {
        return Err(WireError::WrongType(name));
    };
    let n = u64::try_from(i).map_err(|_| WireError::InvalidValue {
        field: name,
        why: "negative or too large".into(),
    })?;
    if n > max {
        return Err(WireError::InvalidValue {
            field: name,
            why: format!("{n} > {max}"),
        });
    }
    Ok(n)
}

pub(crate) fn as_int(v: Value, name: &'static str) -> Result<i64, WireError> {
    let Value::Integer(i) = v else {
        return Err(WireError::WrongType(name));
    };
    i64::try_from(i).map_err(|_| WireError::InvalidValue {
        field: name,
        why: "out of range".into(),
    })
}

pub(crate) fn int(v: i64) -> Value {
    Value::Integer(v.into())
}

pub(crate) fn uint(v: u64) -> Value {
    Value::Integer(v.into())
}
