export declare const ROOT: string;
export declare function freshBuild(): string | null;
