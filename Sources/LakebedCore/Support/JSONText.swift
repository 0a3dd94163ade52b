/// JSON text written straight into a string, for listings of many rows: the same text `JSON.write` gives (Python's
/// `", "` and `": "` separators), without building a `JSON` value and its ordered object for every row first.
public struct JSONText: Sendable {
    /// The text so far.
    public private(set) var text = ""
    /// No value yet in the object or array being written (so the next one takes no separator).
    private var first = true

    /// An empty text with room for `capacity` bytes.
    public init(capacity: Int = 0) { text.reserveCapacity(capacity) }

    /// Starts an object (a value: call `key` first inside an object).
    public mutating func beginObject() {
        text += "{"
        first = true
    }

    /// Ends the object being written.
    public mutating func endObject() {
        text += "}"
        first = false
    }

    /// Starts an array.
    public mutating func beginArray() {
        text += "["
        first = true
    }

    /// Ends the array being written.
    public mutating func endArray() {
        text += "]"
        first = false
    }

    /// Before an array's element: the separator when it is not the first.
    public mutating func element() {
        if !first { text += ", " }
        first = false
    }

    /// An object's key; its value follows.
    public mutating func key(_ k: String) {
        element()
        JSON.writeString(k, to: &text)
        text += ": "
    }

    /// A string value, or null.
    public mutating func string(_ s: String?) {
        if let s { JSON.writeString(s, to: &text) } else { text += "null" }
        first = false
    }

    /// An integer value, or null.
    public mutating func int(_ i: Int64?) {
        if let i { text += String(i) } else { text += "null" }
        first = false
    }

    /// A boolean value.
    public mutating func bool(_ b: Bool) {
        text += b ? "true" : "false"
        first = false
    }

    /// Any value.
    public mutating func value(_ v: JSON) {
        v.write(to: &text)
        first = false
    }

    /// Text that is already JSON (a fragment written once and reused for many rows).
    public mutating func raw(_ json: String) {
        text += json
        first = false
    }

    /// Ends a line of an `application/x-json-stream` listing.
    public mutating func newline() {
        text += "\n"
        first = true
    }
}
