// Stylesheets imported for their side effect: Bun bundles them into the page's CSS.
declare module "*.css";

// The part of noVNC's RFB API the console uses (the package ships no type declarations).
declare module "@novnc/novnc" {
  export default class RFB extends EventTarget {
    constructor(target: HTMLElement, url: string, options?: { credentials?: { password?: string }; wsProtocols?: string[] });
    scaleViewport: boolean;
    resizeSession: boolean;
    viewOnly: boolean;
    disconnect(): void;
    sendCtrlAltDel(): void;
    addEventListener(type: "connect" | "credentialsrequired" | "securityfailure", listener: (e: CustomEvent) => void): void;
    addEventListener(type: "disconnect", listener: (e: CustomEvent<{ clean: boolean }>) => void): void;
  }
}
