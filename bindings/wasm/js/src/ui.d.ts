// The default chat UI module. The widget loads it itself when `mount` gets
// a container; import it directly only to preload it.

/** The image URL the UI shows, or null: only https:, http: (relative URLs resolve against `base`) and data:image/. */
export declare function safeImageUrl(url: unknown, base: string): string | null;
