/** @backplane/fdt — Flattened device tree (Devicetree Specification v0.4) builder and parser. */
export {};
