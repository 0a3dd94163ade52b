// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Lakebed",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lakebed", targets: ["lakebed"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
    ],
    targets: [
        .target(
            name: "LakebedCore",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "LakebedFTS",
            dependencies: ["LakebedCore", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "LakebedDaemons",
            dependencies: ["LakebedCore", "LakebedFTS", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "LakebedIAM",
            dependencies: [
                "LakebedCore", .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "LakebedScenarios",
            dependencies: ["LakebedCore", "LakebedFTS", "LakebedDaemons", "LakebedIAM", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "LakebedHTTP",
            dependencies: [
                "LakebedCore", "LakebedFTS", "LakebedDaemons", "LakebedIAM", "LakebedScenarios",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "LakebedApp",
            dependencies: [
                "LakebedCore", "LakebedFTS", "LakebedDaemons", "LakebedIAM", "LakebedScenarios", "LakebedHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "LakebedTesting",
            dependencies: ["LakebedCore", "LakebedFTS", "LakebedDaemons", "LakebedApp", "LakebedScenarios"],
            path: "Tests/LakebedTesting"
        ),
        .executableTarget(
            name: "lakebed",
            dependencies: [
                "LakebedCore", "LakebedApp", "LakebedDaemons", "LakebedFTS", "LakebedHTTP", "LakebedScenarios", "LakebedIAM",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "LakebedCoreTests", dependencies: ["LakebedCore", "LakebedTesting"]),
        .testTarget(name: "LakebedFTSTests", dependencies: ["LakebedFTS", "LakebedDaemons", "LakebedCore", "LakebedTesting"]),
        .testTarget(name: "LakebedScenariosTests", dependencies: ["LakebedScenarios", "LakebedFTS", "LakebedDaemons", "LakebedCore", "LakebedTesting"]),
        .testTarget(name: "LakebedIAMTests", dependencies: ["LakebedIAM", "LakebedCore", "LakebedTesting"]),
        .testTarget(
            name: "LakebedHTTPTests",
            dependencies: [
                "LakebedHTTP", "LakebedCore", "LakebedIAM", "LakebedDaemons", "LakebedFTS", "LakebedTesting",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "LakebedAppTests",
            dependencies: [
                "LakebedApp", "LakebedTesting", "LakebedCore", "LakebedHTTP",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
