export declare const ROOT: string;
/** The build's folder (dist/ under `root`, the checkout by default), or null when there is none or a source changed since. */
export declare function freshBuild(root?: string): string | null;
