/**
 * @backplane/fdt — flattened devicetree builder and parser
 * (Devicetree Specification v0.4).
 */

export { FDT_MAGIC, parseBlob, toBlob } from "./blob.js";
export { cells, DeviceTree, FdtNode, type PropValue, sizedCells, strings } from "./tree.js";
