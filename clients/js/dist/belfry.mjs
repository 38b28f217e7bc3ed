var Z=Object.defineProperty;var J=(n,e,r)=>e in n?Z(n,e,{enumerable:!0,configurable:!0,writable:!0,value:r}):n[e]=r;var P=(n,e,r)=>J(n,typeof e!="symbol"?e+"":e,r);import{createClient as Q}from"graphql-ws";function I(n){let e=n.split(".")[1];if(!e)return null;try{let r=e.replace(/-/g,"+").replace(/_/g,"/"),o=JSON.parse(atob(r.padEnd(Math.ceil(r.length/4)*4,"=")));return typeof o.exp=="number"?o.exp:null}catch{return null}}function R(n,e=globalThis.fetch.bind(globalThis)){return async()=>{let r=await e(n,{method:"POST",credentials:"include",headers:{accept:"application/json"}});if(!r.ok)throw new Error(`The token endpoint answered ${r.status}`);let o=await r.json();if(typeof o?.token!="string")throw new Error('The token endpoint must answer {"token": "..."}');return o.token}}function q(n){return Math.min(60,Math.max(0,n)/4)}var F=4401,$=4403,V=4205,w=class extends Error{constructor(e,r=[],o){super(e),this.name="BelfryError",this.errors=r,this.code=o}},E=class extends Error{constructor(e){super(`No token: ${e instanceof Error?e.message:String(e)}`),this.name="TokenUnavailableError",this.cause=e}};function G(n){let e=globalThis.location?.href,r=new URL(n||"/graphql",e);return r.protocol==="http:"&&(r.protocol="ws:"),r.protocol==="https:"&&(r.protocol="wss:"),r.toString()}function C(n){return typeof n=="object"&&n!==null&&"code"in n&&"reason"in n}function j(n){let e=Math.min(1e4,500*2**n);return e/2+Math.random()*(e/2)}var H=n=>new Promise(e=>setTimeout(e,n));function ee(n){let e=null,r=!0;return{async get(){let o=Date.now()/1e3;return(!e||r||e.expiresAt!==null&&e.expiresAt-o<1)&&await this.fetch(),e.token},async fetch(){let o;try{o=await n()}catch(s){throw new E(s)}if(typeof o!="string"||!o)throw new E("the source gave none");return e={token:o,expiresAt:I(o),fetchedAt:Date.now()/1e3},r=!1,e},refuse(){r=!0},renewIn(){if(!e||e.expiresAt===null)return null;let o=e.expiresAt-e.fetchedAt,s=e.expiresAt-q(o);return Math.max(0,(s-Date.now()/1e3)*1e3)},current(){return e?.token??null}}}function B(n={}){let{token:e,getToken:r,credentials:o="omit",maxAuthRetries:s=3,refreshBeforeExpiry:u=!0}=n,h=!e&&!r&&o==="include";if(!e&&!r&&!h)throw new Error('Give createBelfryClient a token, a getToken function or credentials: "include"');let f=h?null:ee(r??(()=>e)),g=new Set,_="connecting",b=0,p=!1,x=null,v;function m(t,a){_=t;for(let c of g)c(t,a)}let k=Q({url:G(n.url),webSocketImpl:n.webSocketImpl,lazy:!0,retryAttempts:1/0,lazyCloseTimeout:3e3,shouldRetry:t=>t instanceof E||C(t)&&t.code!==$,retryWait:async t=>{if(p){p=!1;return}await H(j(t))},connectionParams:async()=>f?{authorization:`Bearer ${await f.get()}`}:{},on:{connected:t=>{x=t,b=0,m("connected"),T()},closed:t=>{if(x=null,clearTimeout(v),C(t)&&(t.code===F||t.code===$)&&(f?.refuse(),b+=1,b>s))return m("unauthorized",t);_==="closed"||_==="unauthorized"||m(C(t)&&t.code===1e3?"idle":"reconnecting",t)}}});function T(){clearTimeout(v);let t=u&&f?f.renewIn():null;t!==null&&(v=setTimeout(N,t))}async function N(){if(!f)return;let t=x,a=f.current();try{await f.fetch()}catch{return}f.current()!==a&&t&&t===x&&t.readyState===1&&(p=!0,t.close(V,"token refresh"))}function A(t){return C(t)&&[F,$].includes(t.code)&&b<=s}function M(t,a){let c=!1,i=()=>{},d=()=>{c||(i=k.subscribe(t,{next:l=>a.next(l),complete:()=>a.complete?.(),error:l=>{if(!c){if(A(l)){H(j(b-1)).then(d);return}a.error?.(te(l))}}}))};return d(),()=>{c=!0,i()}}function L(t,a={}){return new Promise((c,i)=>{let d;M({query:t,variables:a},{next:l=>d=l,error:i,complete:()=>{d?.errors?.length?i(new w(d.errors[0].message,d.errors)):c(d?.data)}})})}return{subscribe:M,request:L,get status(){return _},onStatus(t){return g.add(t),()=>g.delete(t)},async dispose(){clearTimeout(v),m("closed"),await k.dispose()}}}function te(n){return n instanceof Error?n:Array.isArray(n)?new w(n[0]?.message??"GraphQL error",n):C(n)?new w(n.reason||`Socket closed (${n.code})`,[],n.code):new w(String(n))}var re=/[\p{Cc}\p{Cf}\p{Cs}\p{Z}\s\\]/u;var oe=/^https?:\/\/(?:[\p{L}\p{N}\p{M}_-]+(?:\.[\p{L}\p{N}\p{M}_-]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d*)?(?:[/?#]|$)/iu;function D(n){if(typeof n!="string"||!n||n.length>2048||re.test(n))return null;if(n.startsWith("/"))return n.startsWith("//")?null:n;if(!oe.test(n))return null;try{return new URL(n),n}catch{return null}}var z="id category title body link data isRead readAt createdAt team { key name }",ne=`subscription BelfryInbox($after: String) {
  inbox(after: $after) {
    kind cursor unreadCount notificationIds all category notification { ${z} }
  }
}`,K=`query BelfryNotifications($first: Int, $after: String, $filter: NotificationFilter) {
  notifications(first: $first, after: $after, filter: $filter) {
    unreadCount pageInfo { hasNextPage endCursor } edges { node { ${z} } }
  }
}`,ae="query BelfryCategories { eventCategories { name categories { key description } } }",ie=`mutation BelfrySetRead($id: ID!, $read: Boolean!) {
  setNotificationRead(id: $id, read: $read) { ${z} }
}`,se="mutation BelfryMarkAll($category: String) { markAllNotificationsRead(category: $category) { marked } }",le="mutation BelfryDelete($id: ID!) { deleteNotification(id: $id) }",W=200;function X(n,e){return n.createdAt<e.createdAt?1:n.createdAt>e.createdAt?-1:n.id<e.id?1:-1}function O(n,e={}){let r=Math.min(W,Math.max(1,e.pageSize??20)),o={items:[],unreadCount:0,hasMore:!1,loading:!1,synced:!1,category:e.category??null,categories:[],error:null},s=null,u=new Set,h=null,f=0,g=new Set,_=new Map,b=null;function p(t){o={...o,...t};for(let a of u)a(o)}function x(){return o.category?{categories:[o.category]}:null}function v(t){return o.category===null||t.category===o.category}function m(t){let a=g.size;for(let c of t)g.add(c);if(g.size!==a||o.categories.length===0){let c=[...g].sort().map(i=>({key:i,label:_.get(i)??i}));o={...o,categories:c}}}function k(t){p({error:t,loading:!1})}function T(t,a){let c=new Set(t.notificationIds);switch(t.kind){case"CREATED":{let i=t.notification;if(i&&m([i.category]),!i||!v(i)||a.some(l=>l.id===i.id))return a;let d=a[a.length-1];return o.hasMore&&d&&X(i,d)>0?a:[...a,i].sort(X)}case"UPDATED":{if(t.notification){let l=t.notification;return a.map(y=>y.id===l.id?l:y)}let i=new Date().toISOString(),d=l=>t.all?t.category===null||l.category===t.category:c.has(l.id);return a.map(l=>!l.isRead&&d(l)?{...l,isRead:!0,readAt:i}:l)}case"DELETED":return a.filter(i=>t.all?!i.isRead:!c.has(i.id));default:return a}}function N(t){if(t.kind==="SYNC"){p({unreadCount:t.unreadCount}),A();return}if(h){h.push(t);return}p({items:T(t,o.items),unreadCount:t.unreadCount})}async function A(t=Math.max(r,o.items.length)){let a=++f;h=h??[],p({loading:!0});try{let c=await n.request(K,{first:Math.min(W,t),filter:x()});if(a!==f)return;let i=c.notifications,d=i.edges.map(y=>y.node);s=i.pageInfo.endCursor,o={...o,hasMore:i.pageInfo.hasNextPage},m(d.map(y=>y.category));let l=i.unreadCount;for(let y of h??[])d=T(y,d),l=y.unreadCount;h=null,p({items:d,unreadCount:l,loading:!1,synced:!0,error:null})}catch(c){if(a!==f)return;h=null,k(c)}}async function M(){try{let t=await n.request(ae);for(let a of t.eventCategories)for(let c of a.categories)_.set(c.key,c.description||c.key);m(t.eventCategories.flatMap(a=>a.categories.map(c=>c.key))),p({})}catch{}}return{get state(){return o},subscribe(t){return u.add(t),t(o),()=>u.delete(t)},start(){if(b)return;let t={query:ne,variables:{after:null}};b=n.subscribe(t,{next:a=>{if(!a.data)return k(new Error(a.errors?.[0]?.message));t.variables.after=a.data.inbox.cursor,N(a.data.inbox)},error:k}),M()},stop(){b?.(),b=null},async loadMore(){if(!o.hasMore||o.loading||h)return;let t=f;p({loading:!0});try{let a=await n.request(K,{first:r,after:s,filter:x()});if(t!==f)return;let c=a.notifications,i=new Set(o.items.map(l=>l.id)),d=c.edges.map(l=>l.node).filter(l=>!i.has(l.id));s=c.pageInfo.endCursor,m(d.map(l=>l.category)),p({items:[...o.items,...d],hasMore:c.pageInfo.hasNextPage,loading:!1})}catch(a){k(a)}},async setCategory(t){t!==o.category&&(p({category:t,items:[],hasMore:!1,loading:!0}),await A(r))},markRead:t=>L(t,!0),markUnread:t=>L(t,!1),async markAllRead(){return(await n.request(se,{category:o.category})).markAllNotificationsRead.marked},async delete(t){p({items:o.items.filter(a=>a.id!==t)});try{return(await n.request(le,{id:t})).deleteNotification}catch(a){throw A(),a}}};async function L(t,a){let i=(await n.request(ie,{id:t,read:a})).setNotificationRead;return p({items:o.items.map(d=>d.id===i.id?i:d)}),i}}var Y=`
:host {
  --_accent: var(--belfry-accent, #2563eb);
  --_bg: var(--belfry-bg, #ffffff);
  --_fg: var(--belfry-fg, #111827);
  --_muted: var(--belfry-muted, #6b7280);
  --_border: var(--belfry-border, #e5e7eb);
  --_radius: var(--belfry-radius, 10px);
  --_unread-bg: var(--belfry-unread-bg, #eff6ff);
  display: inline-block;
  position: relative;
  font-family: var(--belfry-font, system-ui, -apple-system, "Segoe UI", sans-serif);
  font-size: var(--belfry-font-size, 14px);
  color: var(--_fg);
}
button { font: inherit; color: inherit; cursor: pointer; }
.bell {
  position: relative; display: inline-flex; align-items: center; justify-content: center;
  width: 40px; height: 40px; border: 0; border-radius: 50%; background: transparent;
  color: var(--belfry-bell-color, currentColor);
}
.bell:hover, .bell[aria-expanded="true"] { background: var(--belfry-bell-hover-bg, rgba(0, 0, 0, 0.06)); }
.bell svg { width: 22px; height: 22px; }
.badge {
  position: absolute; top: 2px; right: 0; min-width: 18px; height: 18px; padding: 0 5px;
  box-sizing: border-box; border-radius: 9px; font-size: 11px; font-weight: 600; line-height: 18px;
  text-align: center; background: var(--belfry-badge-bg, #dc2626); color: var(--belfry-badge-color, #ffffff);
}
.badge[hidden] { display: none; }
.popover {
  position: absolute; z-index: var(--belfry-z-index, 1000); top: calc(100% + 6px); right: 0;
  width: var(--belfry-width, 360px); max-width: 95vw; background: var(--_bg); color: var(--_fg);
  border: 1px solid var(--_border); border-radius: var(--_radius);
  box-shadow: var(--belfry-shadow, 0 10px 30px rgba(0, 0, 0, 0.15)); overflow: hidden;
}
.popover[hidden] { display: none; }
header { display: flex; gap: 8px; align-items: center; padding: 10px 12px; border-bottom: 1px solid var(--_border); }
header h2 { flex: 1; margin: 0; font-size: 1em; font-weight: 600; }
select, .mark-all {
  font: inherit; font-size: 0.85em; padding: 3px 6px; border: 1px solid var(--_border);
  border-radius: calc(var(--_radius) / 2); background: var(--_bg); color: var(--_fg);
}
select { max-width: 130px; }
.mark-all { color: var(--_accent); white-space: nowrap; }
.scroller { max-height: var(--belfry-max-height, 420px); overflow-y: auto; }
ol { list-style: none; margin: 0; padding: 0; }
li { display: flex; gap: 8px; padding: 10px 12px; border-bottom: 1px solid var(--_border); }
li.unread { background: var(--_unread-bg); }
li.unread .title::before {
  content: ""; display: inline-block; width: 8px; height: 8px; margin-right: 6px;
  border-radius: 50%; background: var(--_accent); vertical-align: middle;
}
.text { flex: 1; min-width: 0; }
.title { font-weight: 600; overflow-wrap: anywhere; }
a.title { color: inherit; text-decoration: none; }
a.title:hover { text-decoration: underline; }
.body { margin: 2px 0 0; color: var(--_fg); overflow-wrap: anywhere; }
.meta { margin-top: 4px; font-size: 0.8em; color: var(--_muted); }
.actions { display: flex; flex-direction: column; gap: 4px; }
.actions button {
  border: 0; background: transparent; padding: 2px 4px; font-size: 0.8em; color: var(--_accent);
  border-radius: calc(var(--_radius) / 2);
}
.actions button:hover { background: var(--belfry-bell-hover-bg, rgba(0, 0, 0, 0.06)); }
.actions .delete { color: var(--_muted); }
.note { margin: 0; padding: 16px 12px; text-align: center; color: var(--_muted); }
.note[hidden] { display: none; }
`;var ce=`<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true">
<path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"/><path d="M13.73 21a2 2 0 0 1-3.46 0"/></svg>`,de=`<style>${Y}</style>
<button class="bell" part="bell" aria-haspopup="dialog" aria-expanded="false" aria-label="Notifications">
  ${ce}<span class="badge" part="badge" hidden></span>
</button>
<section class="popover" part="popover" role="dialog" aria-label="Notifications" hidden>
  <header>
    <h2>Notifications</h2>
    <select class="category" aria-label="Category"><option value="">All categories</option></select>
    <button class="mark-all" type="button">Mark all read</button>
  </header>
  <div class="scroller">
    <ol class="list"></ol>
    <p class="note" hidden></p>
  </div>
</section>`,ue=120,fe=globalThis.HTMLElement??class{};function he(n){let e=(new Date(n).getTime()-Date.now())/1e3,r=[[60,"second"],[3600,"minute"],[86400,"hour"],[604800,"day"],[1/0,"week"]],o={second:1,minute:60,hour:3600,day:86400,week:604800},[,s]=r.find(([u])=>Math.abs(e)<u)??r[4];return new Intl.RelativeTimeFormat(void 0,{numeric:"auto"}).format(Math.round(e/o[s]),s)}var S=class extends fe{constructor(){super(),this._getToken=void 0,this.client=null,this.store=null,this._teardown=[],this._lastUnread=-1,this._restarting=!1;let e=this.attachShadow({mode:"open"});e.innerHTML=de;let r=o=>e.querySelector(o);if(this._bell=r(".bell"),this._badge=r(".badge"),this._popover=r(".popover"),this._select=r(".category"),this._markAll=r(".mark-all"),this._scroller=r(".scroller"),this._list=r(".list"),this._note=r(".note"),this._bindUi(),Object.prototype.hasOwnProperty.call(this,"getToken")){let o=this.getToken;delete this.getToken,this.getToken=o}}get getToken(){return this._getToken}set getToken(e){this._getToken=e,this._restart()}get open(){return!this._popover.hidden}set open(e){this._popover.hidden=!e,this._bell.setAttribute("aria-expanded",String(!!e)),e&&this._maybeLoadMore()}connectedCallback(){this._restart();let e=r=>{this.open&&!r.composedPath().includes(this)&&(this.open=!1)};document.addEventListener("click",e),this._teardown.push(()=>document.removeEventListener("click",e))}disconnectedCallback(){this._stop();for(let e of this._teardown.splice(0))e()}attributeChangedCallback(){this._restart()}_restart(){this._restarting||(this._restarting=!0,queueMicrotask(()=>{this._restarting=!1,this._stop(),this.isConnected&&this._start()}))}_tokenSource(){if(this._getToken)return this._getToken;let e=this.getAttribute("token-url");if(e)return R(new URL(e,location.href).toString());let r=this.getAttribute("token");return r?()=>r:null}_start(){let e=this._tokenSource(),r=this.getAttribute("credentials")==="include"?"include":void 0;if(!e&&!r||this.client)return;this.client=B({url:this.getAttribute("url")??void 0,getToken:e??void 0,credentials:r}),this.store=O(this.client,{pageSize:Number(this.getAttribute("page-size"))||20});let o=this.client.onStatus(u=>this._emit("belfry-status",{status:u})),s=this.store.subscribe(u=>this._render(u));this._stopStore=()=>{o(),s()},this.store.start()}_stop(){this._stopStore?.(),this.store?.stop(),this.client?.dispose(),this.client=null,this.store=null}_emit(e,r,o=!1){return this.dispatchEvent(new CustomEvent(e,{detail:r,bubbles:!0,composed:!0,cancelable:o}))}_bindUi(){this._bell.addEventListener("click",()=>this.open=!this.open),this._popover.addEventListener("keydown",e=>{e.key==="Escape"&&(this.open=!1,this._bell.focus())}),this._select.addEventListener("change",()=>this.store?.setCategory(this._select.value||null)),this._markAll.addEventListener("click",()=>this._act(()=>this.store?.markAllRead())),this._scroller.addEventListener("scroll",()=>this._maybeLoadMore(),{passive:!0}),this._list.addEventListener("click",e=>this._onListClick(e))}_onListClick(e){let r=e.target,o=r.closest("li"),s=this.store;if(!o||!s)return;let u=o.dataset.id,h=r.closest("button")?.dataset.action;if(h==="read")this._act(()=>s.markRead(u));else if(h==="unread")this._act(()=>s.markUnread(u));else if(h==="delete")this._act(()=>s.delete(u));else if(r.closest("a")){let f=s.state.items.find(g=>g.id===u);this._emit("belfry-notification-click",{notification:f},!0)||e.preventDefault(),f&&!f.isRead&&this._act(()=>s.markRead(u))}}_act(e){Promise.resolve(e()).catch(r=>this._showNote(r.message))}_showNote(e){this._note.textContent=e,this._note.hidden=!e}_maybeLoadMore(){let e=this._scroller,r=this.store?.state;!this.open||!r?.hasMore||r.loading||e.scrollHeight-e.scrollTop-e.clientHeight<ue&&this.store?.loadMore()}_render(e){this._renderBadge(e.unreadCount),this._renderCategories(e);let r=this._scroller.scrollTop;this._list.replaceChildren(...e.items.map(s=>this._renderItem(s))),this._scroller.scrollTop=r;let o=e.synced&&!e.loading&&e.items.length===0;this._showNote(e.error?e.error.message:o?"You're all caught up.":e.loading?"Loading…":""),queueMicrotask(()=>this._maybeLoadMore())}_renderBadge(e){this._badge.hidden=e===0,this._badge.textContent=e>99?"99+":String(e),this._bell.setAttribute("aria-label",e?`Notifications (${e} unread)`:"Notifications"),e!==this._lastUnread&&(this._lastUnread=e,this._emit("belfry-unread-change",{unreadCount:e}))}_renderCategories(e){let r=e.categories.map(o=>o.key).join(`
`);if(this._select.dataset.keys!==r){this._select.dataset.keys=r;let o=e.categories.map(s=>new Option(s.label,s.key));this._select.replaceChildren(new Option("All categories",""),...o)}this._select.value=e.category??""}_renderItem(e){let r=document.createElement("li");r.dataset.id=e.id,r.className=e.isRead?"read":"unread",r.setAttribute("part","item");let o=document.createElement("div");o.className="text";let s=D(e.link),u=document.createElement(s?"a":"div");u.className="title",u.textContent=e.title,s&&u.setAttribute("href",s),o.append(u),e.body&&o.append(Object.assign(document.createElement("p"),{className:"body",textContent:e.body}));let h=Object.assign(document.createElement("div"),{className:"meta"});h.textContent=[e.category,e.team&&`via ${e.team.name}`,he(e.createdAt)].filter(Boolean).join(" · "),o.append(h);let f=Object.assign(document.createElement("div"),{className:"actions"});return f.append(this._button(e.isRead?"unread":"read",e.isRead?"Mark unread":"Mark read"),this._button("delete","Delete")),r.append(o,f),r}_button(e,r){let o=Object.assign(document.createElement("button"),{type:"button",textContent:r});return o.dataset.action=e,o.className=e,o}};P(S,"observedAttributes",["url","token","token-url","page-size","credentials"]);function U(n="belfry-inbox"){globalThis.customElements&&!customElements.get(n)&&customElements.define(n,S)}U();export{w as BelfryError,S as BelfryInboxElement,E as TokenUnavailableError,B as createBelfryClient,O as createInboxStore,U as defineBelfryInbox,D as safeLink,I as tokenExpiry,R as tokenFromEndpoint,G as websocketUrl};
