// Types for the protobuf messages compiled into the `tablestore` SDK, as the local test server uses them.
declare module 'tablestore/lib/protocol/tablestore_compiled_proto.js' {
  interface MessageType {
    decode(bytes: Uint8Array): unknown;
    encode(message: object): { finish(): Uint8Array };
    create(properties?: object): object;
  }
  const protocol: {
    main: { proto: Record<string, MessageType> };
    /** Column conditions and filters: the messages, and the enums `FilterType` and `ComparatorType`. */
    filter: { proto: { Filter: MessageType; SingleColumnValueFilter: MessageType; FilterType: Record<string, number>; ComparatorType: Record<string, number> } };
  };
  export = protocol;
}
