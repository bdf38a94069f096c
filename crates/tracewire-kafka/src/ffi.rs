//! The three librdkafka calls that rdkafka's safe API lacks: reading a header's raw name, adding a
//! header with a raw name, and the symbolic name of an error code.
//!
//! rdkafka's `Headers::try_get` (and so `get`, `get_as`, `try_get_as` and `iter`, which all go
//! through it) converts every header name with `CStr::to_str(..).unwrap()`: a message from a
//! foreign producer whose header name is not UTF-8 panics there. Message headers are untrusted
//! input, so tracewire reads them through [`header`] instead, which hands out the name's bytes.
//! Rebuilding headers byte for byte (to replace stale trace headers) needs the converse, [`add`],
//! since `OwnedHeaders::insert` only takes `&str` names. See docs/adr/0031.
//!
//! rdkafka represents `&BorrowedHeaders` as a zero-sized reference whose address *is* the native
//! `rd_kafka_headers_t *` (it builds it with exactly this cast in `BorrowedHeaders::from_native_ptr`
//! and `OwnedHeaders::as_borrowed`), which is what makes the casts below sound.

#![allow(unsafe_code)]

use std::ffi::{CStr, c_void};
use std::ptr;

use rdkafka::bindings as rdsys;
use rdkafka::message::{BorrowedHeaders, OwnedHeaders};
use rdkafka::types::RDKafkaErrorCode;

/// One header as stored by librdkafka: the name's bytes (up to its first NUL, as librdkafka
/// stores names NUL-terminated) and the value's bytes, `None` for a null value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawHeader<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) value: Option<&'a [u8]>,
}

fn native(headers: &BorrowedHeaders) -> *const rdsys::rd_kafka_headers_t {
    (headers as *const BorrowedHeaders).cast()
}

/// The number of headers.
pub(crate) fn count(headers: &BorrowedHeaders) -> usize {
    // SAFETY: `native` is the live `rd_kafka_headers_t` behind `headers` (see the module docs);
    // counting only reads its list length.
    unsafe { rdsys::rd_kafka_header_cnt(native(headers)) }
}

/// The header at `idx`, without any conversion of its name or value; `None` past the end.
pub(crate) fn header(headers: &BorrowedHeaders, idx: usize) -> Option<RawHeader<'_>> {
    // librdkafka converts `idx` to a C `int` and only checks `idx < count` after that, so an
    // index past `i32::MAX` would wrap negative and read before the list: check here.
    if idx >= count(headers) {
        return None;
    }
    let mut name = ptr::null();
    let mut value = ptr::null();
    let mut size = 0usize;
    // SAFETY: `native(headers)` is live for the borrow of `headers`; the out-pointers point to
    // locals. librdkafka bounds-checks `idx` and returns `__NOENT` past the end.
    let err = unsafe {
        rdsys::rd_kafka_header_get_all(native(headers), idx, &mut name, &mut value, &mut size)
    };
    if err != rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR || name.is_null() {
        return None;
    }
    // SAFETY: librdkafka stores every header name NUL-terminated inside the header's allocation,
    // which lives as long as the headers list, so as long as the borrow of `headers`.
    let name = unsafe { CStr::from_ptr(name) }.to_bytes();
    let value = if value.is_null() {
        None
    } else {
        // SAFETY: a non-null value points to `size` bytes owned by the header (as above).
        Some(unsafe { std::slice::from_raw_parts(value.cast::<u8>(), size) })
    };
    Some(RawHeader { name, value })
}

/// Appends a header with a raw name (any bytes) and a raw value (`None`: a null value).
pub(crate) fn add(headers: &mut OwnedHeaders, name: &[u8], value: Option<&[u8]>) {
    let hdrs = native(headers.as_borrowed()).cast_mut();
    let (value_ptr, value_len) = match value {
        Some(v) => (v.as_ptr().cast::<c_void>(), v.len()),
        None => (ptr::null(), 0),
    };
    // Lengths beyond isize::MAX cannot exist in a Rust slice, so the casts are lossless.
    // SAFETY: `hdrs` is the native list owned by `headers`, which we hold exclusively (`&mut`);
    // librdkafka copies `name_size` bytes of `name` and `value_size` bytes of `value` (or stores
    // a null value for a null pointer) into a fresh allocation and keeps no pointer to ours.
    let _ = unsafe {
        rdsys::rd_kafka_header_add(
            hdrs,
            name.as_ptr().cast(),
            name.len() as isize,
            value_ptr,
            value_len as isize,
        )
    };
}

/// librdkafka's symbolic name of an error code, as `error.type` wants it: the Kafka protocol's
/// name for broker errors (`KAFKA_STORAGE_ERROR`, `NOT_LEADER_FOR_PARTITION`) and librdkafka's
/// `_`-prefixed name for local ones (`_MSG_TIMED_OUT`, `_QUEUE_FULL`).
pub(crate) fn error_name(code: RDKafkaErrorCode) -> Option<&'static str> {
    let err = rdsys::rd_kafka_resp_err_t::try_from(code as i32).ok()?;
    // SAFETY: `rd_kafka_err2name` returns a NUL-terminated string that is valid at least until
    // the next call on this thread: a pointer into librdkafka's static table of names for a
    // code that has one, else a thread-local buffer it formats as `ERR_<code>?` (the range
    // markers `__BEGIN`, `__END`, `END_ALL`), which a later call overwrites.
    let name = unsafe { rdsys::rd_kafka_err2name(err) };
    if name.is_null() {
        return None;
    }
    // SAFETY: as above: NUL-terminated and valid now, on this thread.
    let name = unsafe { CStr::from_ptr(name) }.to_str().ok()?;
    // Only names from the static table may be handed out as `'static`; the table's names never
    // end with `?`, the thread-local fallback always does.
    (!name.ends_with('?')).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_names_round_trip_byte_for_byte() {
        let mut h = OwnedHeaders::new();
        add(&mut h, b"\xff\xfename", Some(b"\x00\x01"));
        add(&mut h, b"plain", None);
        add(&mut h, b"empty", Some(b""));
        assert_eq!(count(h.as_borrowed()), 3);
        assert_eq!(
            header(h.as_borrowed(), 0),
            Some(RawHeader {
                name: b"\xff\xfename",
                value: Some(b"\x00\x01")
            })
        );
        assert_eq!(
            header(h.as_borrowed(), 1),
            Some(RawHeader {
                name: b"plain",
                value: None
            })
        );
        assert_eq!(
            header(h.as_borrowed(), 2),
            Some(RawHeader {
                name: b"empty",
                value: Some(b"")
            })
        );
        assert_eq!(header(h.as_borrowed(), 3), None);
        assert_eq!(header(h.as_borrowed(), usize::MAX), None);
    }

    #[test]
    fn error_names_are_librdkafkas() {
        assert_eq!(
            error_name(RDKafkaErrorCode::MessageTimedOut),
            Some("_MSG_TIMED_OUT")
        );
        assert_eq!(
            error_name(RDKafkaErrorCode::KafkaStorageError),
            Some("KAFKA_STORAGE_ERROR")
        );
        assert_eq!(error_name(RDKafkaErrorCode::QueueFull), Some("_QUEUE_FULL"));
    }

    #[test]
    fn codes_without_a_name_have_none() {
        // For these librdkafka formats "ERR_<n>?" into a thread-local buffer that the next
        // call overwrites: never a `&'static str`.
        for code in [RDKafkaErrorCode::Begin, RDKafkaErrorCode::EndAll] {
            assert_eq!(error_name(code), None, "{code:?}");
        }
    }
}
