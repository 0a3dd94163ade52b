import Foundation
import GRDB

/// One item in an ESAP user's shopping basket.
public struct BasketItem: Sendable, Equatable {
    /// Row id (order of insertion).
    public var id: Int64
    /// Whose basket it is (the ESAP user name, i.e. the IAM user name).
    public var userName: String
    /// The item as ESAP stores it: JSON text, e.g. `{"archive": "rucio", "record": {...}}`.
    public var itemData: String
}

/// ESAP's shopping baskets, one per user.
public struct BasketStore: CatalogStore {
    /// The catalog this works on.
    public let catalog: Catalog
    /// Works on `catalog`.
    public init(catalog: Catalog) { self.catalog = catalog }

    /// A user's basket, oldest item first.
    public func basket(user: String) async throws -> [BasketItem] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM esap_basket_items WHERE user_name = ? ORDER BY id", arguments: [user]).map {
                BasketItem(id: $0["id"], userName: $0["user_name"], itemData: $0["item_data"])
            }
        }
    }

    /// Replaces a user's basket with these items (ESAP's profile update does exactly this); scenarios seed baskets with it.
    public func setBasket(user: String, items: [JSON]) async throws {
        let now = nowStamp
        try await db.write { db in
            try db.execute(sql: "DELETE FROM esap_basket_items WHERE user_name = ?", arguments: [user])
            for item in items {
                try db.execute(
                    sql: "INSERT INTO esap_basket_items (user_name, item_data, created_at) VALUES (?, ?, ?)",
                    arguments: [user, item.serialized(), now])
            }
        }
    }

    /// Adds one item to a user's basket.
    @discardableResult
    public func addBasketItem(user: String, item: JSON) async throws -> BasketItem {
        let now = nowStamp
        return try await db.write { db in
            try db.execute(
                sql: "INSERT INTO esap_basket_items (user_name, item_data, created_at) VALUES (?, ?, ?)",
                arguments: [user, item.serialized(), now])
            return BasketItem(id: db.lastInsertedRowID, userName: user, itemData: item.serialized())
        }
    }
}
