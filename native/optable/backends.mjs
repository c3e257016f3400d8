// Which ops each backend implements (see native/binding/backend.h for the contract). Each
// implemented op gets a `case` in its generated run(); the others fail with a clear error on
// that backend. `all: true`: every op of the table.
export default {
  Cpu: { all: true },
};
